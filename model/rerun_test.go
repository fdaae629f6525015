package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRerunMatchesFresh: a compiled graph run on one batch and then on another gives, for the second, the bits a
// freshly compiled graph gives for it alone (loss, every parameter gradient and the sampler's input gradient).
// The convolutions share their patch matrices within a run (ops.Runs); a share kept from the previous run would
// show here.
func TestRerunMatchesFresh(t *testing.T) {
	for _, dt := range []string{"float32", "float64"} {
		t.Run(dt, func(t *testing.T) {
			cfg := tinyConfig(t, 16, 3, "flatten")
			cfg.DType = dt
			p := randomParams(t, cfg, 5)
			lc := DefaultLoss()
			lc.PenaltyAt = PenaltyAtInterp
			rng := rand.New(rand.NewPCG(9, 9))
			n := 4 * cfg.InputSize()
			batch := func() []float32 { return randomImages(n, rng) }
			x1, y1, z1 := batch(), batch(), batch()
			x2, y2, z2 := batch(), batch(), batch()

			grads := func(s *TrainStep) []uint64 {
				var out []uint64
				for i := 0; i < s.Grads().Len(); i++ {
					for _, v := range s.Grads().Float64s(i) {
						out = append(out, math.Float64bits(v))
					}
				}
				return out
			}
			reused, err := NewTrainStep(p, 4, lc)
			if err != nil {
				t.Fatal(err)
			}
			defer reused.Close()
			if _, err := reused.RunAt(x1, y1, z1, 0.3); err != nil {
				t.Fatal(err)
			}
			st2, err := reused.RunAt(x2, y2, z2, 0.6)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := NewTrainStep(p, 4, lc)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			want, err := fresh.RunAt(x2, y2, z2, 0.6)
			if err != nil {
				t.Fatal(err)
			}
			if st2.Loss != want.Loss {
				t.Errorf("loss on the second run %v, fresh graph %v", st2.Loss, want.Loss)
			}
			g1, g2 := grads(reused), grads(fresh)
			for i := range g1 {
				if g1[i] != g2[i] {
					t.Fatalf("parameter gradient %d differs between the second run and a fresh graph", i)
				}
			}

			w, err := NewWitness(p, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			dir := randomImages(cfg.FeatureDim, rng)
			a, b := make([]float32, n), make([]float32, n)
			if err := w.Grad(x1, 0.2, dir, a); err != nil {
				t.Fatal(err)
			}
			if err := w.Grad(x2, 0.7, dir, a); err != nil {
				t.Fatal(err)
			}
			w2, err := NewWitness(p, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer w2.Close()
			if err := w2.Grad(x2, 0.7, dir, b); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("witness gradient %d: second run %v, fresh graph %v", i, a[i], b[i])
				}
			}
		})
	}
}
