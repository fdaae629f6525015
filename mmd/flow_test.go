package mmd

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFlowDecreasesMMDMonotonically runs the noise-free flow with a small
// step on a convex toy case (Gaussian target, shifted Gaussian particles, a
// kernel wider than the shift) and checks that MMD^2 falls at every step.
func TestFlowDecreasesMMDMonotonically(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	target := randPoints(r, 200, 2, 0)
	particles := randPoints(r, 100, 2, 1)
	f, err := NewFlow(target, particles, FlowConfig{Kernel: Gaussian{Sigma: 2}, StepSize: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.MMD2()
	if err != nil {
		t.Fatal(err)
	}
	prev := first
	for n := range 300 {
		if err := f.Step(); err != nil {
			t.Fatal(err)
		}
		cur, _ := f.MMD2()
		if !(cur < prev) {
			t.Fatalf("step %d: MMD^2 went from %.10g to %.10g", n, prev, cur)
		}
		prev = cur
	}
	if prev > first/20 {
		t.Errorf("MMD^2 only fell from %g to %g in 300 steps", first, prev)
	}
	if f.Iteration() != 300 {
		t.Errorf("Iteration() = %d", f.Iteration())
	}
	if particles.Data[0] == f.Particles().Data[0] {
		t.Error("flow moved the caller's particles instead of a copy")
	}
}

// TestFlowNoiseMovesOnlyTheEvaluationPoint uses the linear kernel, whose
// witness gradient mean(y) - mean(x) does not depend on where it is
// evaluated: with noise injection the particles must follow exactly the
// noise-free path, since they themselves receive no noise.
func TestFlowNoiseMovesOnlyTheEvaluationPoint(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	target, particles := randPoints(r, 30, 3, 2), randPoints(r, 20, 3, 0)
	plain, _ := NewFlow(target, particles, FlowConfig{Kernel: Linear{}, StepSize: 0.1})
	noisy, err := NewFlow(target, particles, FlowConfig{Kernel: Linear{}, StepSize: 0.1, Noise: ConstantNoise{Beta: 3}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Run(10, nil); err != nil {
		t.Fatal(err)
	}
	if err := noisy.Run(10, nil); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(plain.Particles().Data, noisy.Particles().Data); d > 1e-12 {
		t.Errorf("noise changed a linear-kernel flow by %g", d)
	}
}

func TestFlowNoiseSeeds(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	target, particles := randPoints(r, 50, 2, 0), randPoints(r, 40, 2, 1)
	run := func(noise NoiseSchedule, seed uint64) []float64 {
		f, err := NewFlow(target, particles, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 0.3, Noise: noise, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		levels := []float64{}
		err = f.Run(5, func(f *Flow) error { levels = append(levels, f.NoiseLevel()); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return f.Particles().Data
	}
	a, b := run(ConstantNoise{Beta: 0.5}, 1), run(ConstantNoise{Beta: 0.5}, 1)
	if maxAbsDiff(a, b) != 0 {
		t.Error("same seed, different flows")
	}
	if maxAbsDiff(a, run(ConstantNoise{Beta: 0.5}, 2)) == 0 {
		t.Error("different seeds, same flow")
	}
	if maxAbsDiff(run(nil, 1), run(ConstantNoise{}, 1)) != 0 {
		t.Error("zero noise differs from no noise")
	}
}

func TestFlowRunCallbackError(t *testing.T) {
	x := Points{Data: []float64{0, 1}, Dim: 1}
	f, _ := NewFlow(x, x, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 1})
	stop := errors.New("stop")
	calls := 0
	err := f.Run(10, func(*Flow) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Run returned %v after %d calls", err, calls)
	}
}

func TestFlowErrors(t *testing.T) {
	x := Points{Data: []float64{0, 1, 2, 3}, Dim: 2}
	y := Points{Data: []float64{0, 1, 2}, Dim: 1}
	tests := []struct {
		name string
		t, p Points
		cfg  FlowConfig
		want error
	}{
		{"zero step", x, x, FlowConfig{Kernel: Gaussian{Sigma: 1}}, ErrParam},
		{"nan step", x, x, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: math.NaN()}, ErrParam},
		{"nil kernel", x, x, FlowConfig{StepSize: 1}, ErrParam},
		{"dims", x, y, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 1}, ErrDim},
		{"no particles", x, Points{}, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 1}, ErrEmpty},
		{"bad noise", x, x, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 1, Noise: ConstantNoise{Beta: -1}}, ErrParam},
	}
	for _, tc := range tests {
		if _, err := NewFlow(tc.t, tc.p, tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A step that overflows fails and leaves the particles alone.
	target := Points{Data: []float64{1e300, 1e300}, Dim: 1}
	f, err := NewFlow(target, Points{Data: []float64{0, 1}, Dim: 1}, FlowConfig{Kernel: Linear{}, StepSize: 1e300})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Step(); !errors.Is(err, ErrParam) {
		t.Errorf("overflowing step: err = %v", err)
	}
	if got := f.Particles().Data; got[0] != 0 || got[1] != 1 || f.Iteration() != 0 {
		t.Errorf("failed step changed the state: %v, iteration %d", got, f.Iteration())
	}
}
