package model

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

func benchParams(b *testing.B, preset string, size, ch int) *Params {
	b.Helper()
	cfg, err := Preset(preset, size, ch)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Init(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func randomImages(n int, rng *rand.Rand) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

// BenchmarkTrainStep measures one full DMMD critic step (loss + exact gradient with the gradient penalty),
// preset small, B = 64 per side, 32x32x3, float32.
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, DefaultLoss()) }

// BenchmarkTrainStepGroups8 is BenchmarkTrainStep with the batch split into 8 groups of 8, each at its own level
// (LossConfig.Groups; RunLevels).
func BenchmarkTrainStepGroups8(b *testing.B) {
	lc := DefaultLoss()
	lc.Groups = 8
	benchTrainStep(b, lc)
}

// BenchmarkTrainStepInterpAdam is the trainer's default step: the penalty at interpolates between the two sides
// (LossConfig.PenaltyAt interp) and the Adam update, preset small, B = 64 per side, 32x32x3, float32. It is the Go
// side of torchref's `mirror.py bench --op train_interp_adam`.
func BenchmarkTrainStepInterpAdam(b *testing.B) {
	lc := DefaultLoss()
	lc.PenaltyAt = PenaltyAtInterp
	benchTrainStepOpt(b, lc, true)
}

func benchTrainStep(b *testing.B, lc LossConfig) { benchTrainStepOpt(b, lc, false) }

func benchTrainStepOpt(b *testing.B, lc LossConfig, adam bool) {
	runtime.GC() // the graph of the previous b.N round is closed: peak RSS counts one graph
	p := benchParams(b, "small", 32, 3)
	s, err := NewTrainStep(p, 64, lc)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	n := 64 * p.Config().InputSize()
	x, y := randomImages(n, rng), randomImages(n, rng)
	var z []float32
	if lc.interp() {
		z = make([]float32, n)
		for i := range z {
			u := float32(rng.Float64())
			z[i] = u*x[i] + (1-u)*y[i]
		}
	}
	var opt *Adam
	if adam {
		if opt, err = NewAdam(p, DefaultAdam()); err != nil {
			b.Fatal(err)
		}
	}
	levels := make([]float64, s.Groups())
	for i := range levels {
		levels[i] = (float64(i) + 0.5) / float64(len(levels))
	}
	step := func() {
		if _, err := s.RunLevels(x, y, z, levels); err != nil {
			b.Fatal(err)
		}
		if opt != nil {
			if err := opt.Update(p, s.Grads()); err != nil {
				b.Fatal(err)
			}
		}
	}
	step() // warm-up: buffers are allocated on the first run
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	reportPeakRSS(b)
}

// BenchmarkFeatures128 is the forward pass alone for 128 images (both sides of a training step), for comparison.
func BenchmarkFeatures128(b *testing.B) {
	p := benchParams(b, "small", 32, 3)
	f, err := NewFeatures(p, 128)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomImages(128*p.Config().InputSize(), rng)
	out := make([]float32, 128*p.Config().FeatureDim)
	if err := f.Run(x, 0.5, out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.Run(x, 0.5, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWitnessGrad measures the sampler's input gradient for 256 particles, preset small, 32x32x3, float32.
func BenchmarkWitnessGrad(b *testing.B) {
	runtime.GC() // as in BenchmarkTrainStep: peak RSS counts one graph
	p := benchParams(b, "small", 32, 3)
	w, err := NewWitness(p, 256)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	z := randomImages(256*p.Config().InputSize(), rng)
	dir := randomImages(p.Config().FeatureDim, rng)
	out := make([]float32, len(z))
	if err := w.Grad(z, 0.5, dir, out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Grad(z, 0.5, dir, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPeakRSS(b)
}

// BenchmarkTrainStepReplicas is MNIST's default training step (the narrow preset with two extra levels on
// 1x28x28, batch 32 in 8 groups, paired MMD, zero-centred penalty at interpolates, Adam) on one graph and split
// between 2 and 4 graphs that run concurrently (NewTrainStepReplicas). Compare at -cpu 1,2.
func BenchmarkTrainStepReplicas(b *testing.B) {
	for _, r := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("r%d", r), func(b *testing.B) {
			runtime.GC()
			cfg, err := Preset("narrow", 28, 1)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Widths = append(cfg.Widths, 128, 128)
			p, err := Init(cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			lc := DefaultLoss()
			lc.MMD, lc.Penalty, lc.PenaltyAt, lc.Groups = MMDPaired, PenaltyZero, PenaltyAtInterp, 8
			s, err := NewTrainStepReplicas(p, 32, lc, r)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			opt, err := NewAdam(p, DefaultAdam())
			if err != nil {
				b.Fatal(err)
			}
			xt, y, z, ts := replicaInputs(cfg, 32, 8, 1)
			step := func() {
				if _, err := s.RunLevels(xt, y, z, ts); err != nil {
					b.Fatal(err)
				}
				if err := opt.Update(p, s.Grads()); err != nil {
					b.Fatal(err)
				}
			}
			step()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
		})
	}
}
