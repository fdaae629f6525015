package train

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/model"
)

// BenchmarkTrainerMNIST is one step of the whole trainer (data, noise, loss and gradient, clip, Adam, EMA, finite
// checks, metrics) with MNIST's recipe on 1x28x28 images: the small preset at batch 64 and 32, and the narrow
// preset at 32 (MNIST's default) on one graph and on two replicas (-replicas); no checkpoints,
// sample grids or diagnostics inside the timed steps. Against model's BenchmarkTrainStep* it measures the
// trainer's own overhead (issue 13: within 5 % of the bare step). BenchmarkTrainerExtrasMNIST adds the
// per-checkpoint extras.
func BenchmarkTrainerMNIST(b *testing.B) {
	ds := noiseImages(b, 2000, data.Shape{C: 1, H: 28, W: 28})
	for _, bc := range []struct {
		preset          string
		batch, replicas int
	}{{"small", 64, 1}, {"small", 32, 1}, {"narrow", 32, 1}, {"narrow", 32, 2}} {
		b.Run(fmt.Sprintf("%s/batch%d/replicas%d", bc.preset, bc.batch, bc.replicas), func(b *testing.B) {
			c, err := DefaultConfig("mnist")
			if err != nil {
				b.Fatal(err)
			}
			c.Preset, c.Batch, c.Replicas = bc.preset, bc.batch, bc.replicas
			c.Run.CkptEvery, c.Run.CkptInterval, c.Run.DiagN, c.Sample.Every = 0, 0, 0, 0
			benchTrainer(b, c, ds)
		})
	}
}

// BenchmarkTrainerExtrasMNIST is one trainer step followed by everything MNIST's defaults do at a checkpoint with
// the narrow preset at batch 32: the sample grid (previewOptions: 64 particles, NFE 100, mean embeddings of 256
// images at the flow's 50 levels) and its pixel score, the checkpoint, and the critic diagnostics. Its time
// minus BenchmarkTrainerMNIST/narrow/batch32's is the cost of one checkpoint's extras.
func BenchmarkTrainerExtrasMNIST(b *testing.B) {
	ds := noiseImages(b, 2000, data.Shape{C: 1, H: 28, W: 28})
	c, err := DefaultConfig("mnist")
	if err != nil {
		b.Fatal(err)
	}
	c.Run.CkptEvery, c.Run.CkptInterval, c.Sample.Every = 1, 0, 1
	benchTrainer(b, c, ds)
}

// benchTrainer times b.N steps of Run with c after a few untimed ones.
func benchTrainer(b *testing.B, c Config, ds data.Dataset) {
	const warm = 3 // steps before the timer starts (first-touch allocations, the first grid's scorer)
	c.Steps = int64(b.N + warm)
	b.StopTimer()
	opt := Options{Out: filepath.Join(b.TempDir(), "run"), Dataset: ds, AfterStep: func(s int64, _ model.Stats) {
		if s == warm {
			b.StartTimer()
		}
	}}
	if _, err := Run(context.Background(), c, opt); err != nil {
		b.Fatal(err)
	}
	b.StopTimer() // the final checkpoint
}
