package mmd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestWitnessGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	target, current := randPoints(r, 40, 3, 0), randPoints(r, 30, 3, 1)
	for _, k := range []Kernel{Gaussian{Sigma: 0.8}, IMQ{C: 1, Beta: -0.5}, MixedRQ{Linear: true}, KIDKernel()} {
		t.Run(k.String(), func(t *testing.T) {
			w, err := NewWitness(k, target, current)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				z := randPoints(r, 1, 3, 0.5).Data
				got := make([]float64, 3)
				if err := w.Grad(got, z); err != nil {
					t.Fatal(err)
				}
				want := fdGrad(func(z []float64) float64 { v, _ := w.Value(z); return v }, z, 1e-5)
				if d := maxAbsDiff(got, want); d > 1e-8 {
					t.Errorf("grad %v, finite differences %v (max diff %.2g)", got, want, d)
				}
			}
		})
	}
}

// TestWitnessIsMMDGradient checks the link the flow rests on: moving particle
// x_i changes MMD_b^2/2 at rate -(1/N) grad f(x_i).
func TestWitnessIsMMDGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	target, particles := randPoints(r, 25, 2, 0), randPoints(r, 20, 2, 0.7)
	k := Gaussian{Sigma: 1.1}
	w, err := NewWitness(k, target, particles)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(particles.Len())
	for _, i := range []int{0, 7, 19} {
		g := make([]float64, 2)
		if err := w.Grad(g, particles.Row(i)); err != nil {
			t.Fatal(err)
		}
		xi := particles.Row(i)
		orig := append([]float64(nil), xi...)
		fd := fdGrad(func(z []float64) float64 {
			copy(xi, z)
			v, err := MMD2Biased(k, target, particles)
			if err != nil {
				t.Fatal(err)
			}
			return v / 2
		}, orig, 1e-5)
		copy(xi, orig)
		for d := range g {
			if want := -g[d] / n; math.Abs(fd[d]-want) > 1e-9 {
				t.Errorf("particle %d coord %d: dMMD^2/2 = %.10g, -grad f/N = %.10g", i, d, fd[d], want)
			}
		}
	}
}

func TestWitnessBatchMatchesSingle(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	target, current := randPoints(r, 300, 2, 0), randPoints(r, 200, 2, 1)
	z := randPoints(r, 500, 2, 0.5)
	w, err := NewWitness(Gaussian{Sigma: 0.5}, target, current)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := w.Values(z)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := w.Grads(z)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, 2)
	for _, i := range []int{0, 123, 499} {
		v, _ := w.Value(z.Row(i))
		_ = w.Grad(g, z.Row(i))
		if v != vals[i] || g[0] != grads.Row(i)[0] || g[1] != grads.Row(i)[1] {
			t.Errorf("point %d: batch (%v, %v) != single (%v, %v)", i, vals[i], grads.Row(i), v, g)
		}
	}
	// The witness is positive where only data lie and negative where only
	// particles lie.
	if v, _ := w.Value([]float64{-1, -1}); v <= 0 {
		t.Errorf("witness at the data = %g, want > 0", v)
	}
	if v, _ := w.Value([]float64{2, 2}); v >= 0 {
		t.Errorf("witness at the particles = %g, want < 0", v)
	}
}

func TestWitnessErrors(t *testing.T) {
	two := Points{Data: []float64{1, 2, 3, 4}, Dim: 2}
	one := Points{Data: []float64{1, 2, 3}, Dim: 1}
	if _, err := NewWitness(Gaussian{Sigma: 1}, two, one); !errors.Is(err, ErrDim) {
		t.Errorf("dim mismatch: %v", err)
	}
	if _, err := NewWitness(Gaussian{Sigma: 1}, Points{}, two); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty target: %v", err)
	}
	if _, err := NewWitness(nil, two, two); !errors.Is(err, ErrParam) {
		t.Errorf("nil kernel: %v", err)
	}
	w, err := NewWitness(Gaussian{Sigma: 1}, two, two)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Value([]float64{1}); !errors.Is(err, ErrDim) {
		t.Errorf("Value dim: %v", err)
	}
	if err := w.Grad(make([]float64, 3), []float64{1, 2}); !errors.Is(err, ErrDim) {
		t.Errorf("Grad buffer: %v", err)
	}
	if _, err := w.Grads(one); !errors.Is(err, ErrDim) {
		t.Errorf("Grads dim: %v", err)
	}
}

// TestWitnessGradsRadialPath checks the matrix-product path of Grads, used
// for radial kernels from dimension 8, against the pairwise Grad.
func TestWitnessGradsRadialPath(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, d := range []int{gemmMinDim, 50} {
		target, current := randPoints(r, 150, d, 0), randPoints(r, 130, d, 0.3)
		z := randPoints(r, 140, d, 0.1)
		for _, k := range []Kernel{Gaussian{Sigma: 3}, IMQ{C: 1, Beta: -0.5}, MixedRQ{}, MixedRQ{Linear: true}} {
			checkGradsPairwise(t, fmt.Sprintf("d=%d", d), k, target, current, z)
		}
	}
}

// checkGradsPairwise checks the witness's batch Grads at z against its pointwise Grad, to 1e-12 of the largest
// gradient coordinate (or of 1); where says which case failed.
func checkGradsPairwise(t *testing.T, where string, k Kernel, target, current, z Points) {
	t.Helper()
	w, err := NewWitness(k, target, current)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := w.Grads(z)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, z.Dim)
	var worst, scale float64
	for i := range z.Len() {
		if err := w.Grad(g, z.Row(i)); err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, maxAbsDiff(g, grads.Row(i)))
		for _, v := range g {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	if worst > 1e-12*math.Max(1, scale) {
		t.Errorf("%s %v: batch Grads and pointwise Grad differ by %.3g (scale %.3g)", where, k, worst, scale)
	}
}
