package sample_test

import (
	"testing"

	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/sample"
)

// BenchmarkFlowStepSmall measures one flow step of the real network: 256 particles at 32x32x3, preset small,
// float32 (exact flow: the features, the leave-one-out directions and the gradients in one pass of the whole group,
// see sample.OnePassMax; approx: the gradient pass in chunks of 128). A group runs 4 steps; the metric is per step.
func BenchmarkFlowStepSmall(b *testing.B) {
	const steps = 4
	cfg, err := model.Preset("small", 32, 3)
	if err != nil {
		b.Fatal(err)
	}
	p, err := model.Init(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	crit, err := model.NewCritic(p, 128)
	if err != nil {
		b.Fatal(err)
	}
	ds := cifarLike(b, 64)
	for _, mode := range []sample.Mode{sample.Exact, sample.Approx} {
		b.Run(mode.String(), func(b *testing.B) {
			o := sample.DefaultOptions(mode, cfg.InputSize())
			o.Levels, o.StepsPerLevel, o.Particles, o.Chunk = 1, steps, 256, 128
			lv, _ := o.LevelGrid()
			e, err := sample.ComputeEmbeddings(crit, ds, lv, sample.EmbedOptions{Batch: 128})
			if err != nil {
				b.Fatal(err)
			}
			f, err := sample.NewFlow(crit, e, o)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]float32, f.GroupLen())
			if err := f.Group(0, buf); err != nil { // warm-up: graphs are compiled and buffers allocated on first use
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Group(0, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps)/1e9, "s/step")
		})
	}
}
