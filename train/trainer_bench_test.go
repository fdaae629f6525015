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
// preset at 32 (MNIST's default); no checkpoints,
// sample grids or diagnostics inside the timed steps. Against model's BenchmarkTrainStep* it measures the
// trainer's own overhead (issue 13: within 5 % of the bare step).
func BenchmarkTrainerMNIST(b *testing.B) {
	ds := noiseImages(b, 2000, data.Shape{C: 1, H: 28, W: 28})
	for _, bc := range []struct {
		preset string
		batch  int
	}{{"small", 64}, {"small", 32}, {"narrow", 32}} {
		b.Run(fmt.Sprintf("%s/batch%d", bc.preset, bc.batch), func(b *testing.B) {
			c, err := DefaultConfig("mnist")
			if err != nil {
				b.Fatal(err)
			}
			const warm = 3 // steps before the timer starts (first-touch allocations)
			c.Preset, c.Batch, c.Steps = bc.preset, bc.batch, int64(b.N+warm)
			c.Run.CkptEvery, c.Run.CkptInterval, c.Run.DiagN, c.Sample.Every = 0, 0, 0, 0
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
		})
	}
}
