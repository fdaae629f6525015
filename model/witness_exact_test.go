package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExactWitnessMatchesTwoPasses: the one-pass exact-flow gradient is bit for bit what the features pass, the
// leave-one-out directions in float64 (as sample.Flow computes them) and the witness-gradient pass give, in float32
// and float64, with the graph full and with padding rows; and it rejects what it cannot take.
func TestExactWitnessMatchesTwoPasses(t *testing.T) {
	for _, dt := range []string{"float32", "float64"} {
		for _, tc := range []struct{ batch, n int }{{5, 5}, {6, 4}, {2, 2}} {
			cfg := tinyConfig(t, 8, 3, "flatten")
			cfg.DType = dt
			p := randomParams(t, cfg, 3)
			rng := rand.New(rand.NewPCG(uint64(tc.batch), uint64(tc.n)))
			size, D := cfg.InputSize(), cfg.FeatureDim
			z := randomImages(tc.n*size, rng)
			mp := make([]float64, D)
			for j := range mp {
				mp[j] = rng.NormFloat64()
			}
			const level = 0.37

			f, err := NewFeatures(p, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			phi := make([]float32, tc.n*D)
			if err := f.Run(z, level, phi); err != nil {
				t.Fatal(err)
			}
			f.Close()
			sum := make([]float64, D)
			for i := 0; i < tc.n; i++ {
				for j := 0; j < D; j++ {
					sum[j] += float64(phi[i*D+j])
				}
			}
			inv := 1 / float64(tc.n-1)
			dirs := make([]float32, tc.n*D)
			for i := 0; i < tc.n; i++ {
				for j := 0; j < D; j++ {
					dirs[i*D+j] = float32(mp[j] - (sum[j]-float64(phi[i*D+j]))*inv)
				}
			}
			w, err := NewWitness(p, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, len(z))
			if err := w.Grad(z, level, dirs, want); err != nil {
				t.Fatal(err)
			}
			w.Close()

			e, err := NewExactWitness(p, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, len(z))
			for run := 0; run < 2; run++ { // a second run reuses every buffer
				if err := e.Grad(z, level, mp, got); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s batch %d n %d run %d: gradient %d is %v in one pass, %v in two", dt, tc.batch, tc.n, run, i, got[i], want[i])
					}
				}
			}
			if err := e.Grad(z[:size], level, mp, got[:size]); err == nil {
				t.Errorf("%s: one particle accepted", dt)
			}
			if err := e.Grad(z, level, mp[:D-1], got); err == nil {
				t.Errorf("%s: a short m_P accepted", dt)
			}
			e.Close()
		}
	}
	p := randomParams(t, tinyConfig(t, 8, 3, "flatten"), 1)
	if _, err := NewExactWitness(p, 1); err == nil {
		t.Error("NewExactWitness accepted a batch of 1")
	}
}
