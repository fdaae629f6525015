package mmd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// offsets are the common shifts of the data in the far-from-origin tests: MMD, witnesses and flows are invariant
// to a common shift, and the matrix-product paths must stay as accurate as the pairwise loops.
var offsets = []float64{0, 1e4, 1e6, 1e7, 1e8}

// radialKernels are the kernels whose matrix-product paths expand ||x-y||^2 = ||x||^2 + ||y||^2 - 2 x.y. (With a
// linear term, the pairwise loop itself cancels catastrophically far from the origin, so it is no reference there.)
var radialKernels = []Kernel{Gaussian{Sigma: 1}, IMQ{C: 1, Beta: -0.5}, MixedRQ{}}

// TestEstimatorsFarFromOrigin is the example: 20 + 20 points in dimension 8, N(off, I) against
// N(off + 0.5, I), Gaussian width 1. The matrix-product path must agree with the pairwise sums to 1e-12 at every
// offset; before centring it was off by 2e-4 (relative) at 1e6, 1.4 % at 1e7 and gave 0.131 for 0.0051 at 1e8.
func TestEstimatorsFarFromOrigin(t *testing.T) {
	for _, d := range []int{gemmMinDim, 40} {
		for _, off := range offsets {
			r := rand.New(rand.NewPCG(41, uint64(d)))
			x, y := randPoints(r, 20, d, off), randPoints(r, 20, d, off+0.5)
			for _, k := range radialKernels {
				checkMMD2Pairwise(t, fmt.Sprintf("d=%d offset %g ", d, off), k, x, y, kernelScaleTol(k, x))
			}
		}
	}
}

// TestWitnessGradsFarFromOrigin checks the matrix-product witness gradients against the pairwise ones at large
// common offsets (the expansion z sum_j W_j - sum_j W_j p_j cancels there unless the points are centred).
func TestWitnessGradsFarFromOrigin(t *testing.T) {
	const d = 12
	for _, off := range offsets {
		r := rand.New(rand.NewPCG(43, 44))
		target, current := randPoints(r, 30, d, off), randPoints(r, 25, d, off+0.7)
		z := randPoints(r, 20, d, off+0.3)
		for _, k := range radialKernels {
			checkGradsPairwise(t, fmt.Sprintf("offset %g", off), k, target, current, z)
		}
	}
}

// TestFlowFarFromOrigin runs the same noise-free flow on data at the origin and shifted by a common offset: the
// particles must move the same way (the flow is shift-equivariant), to the rounding of the shifted coordinates.
func TestFlowFarFromOrigin(t *testing.T) {
	const d, steps = 10, 5
	r := rand.New(rand.NewPCG(45, 46))
	target0, start0 := randPoints(r, 40, d, 0), randPoints(r, 30, d, 1)
	run := func(off float64) Points {
		shift := func(p Points) Points {
			q := p.Clone()
			for i := range q.Data {
				q.Data[i] += off
			}
			return q
		}
		f, err := NewFlow(shift(target0), shift(start0), FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Run(steps, nil); err != nil {
			t.Fatal(err)
		}
		out := f.Particles().Clone()
		for i := range out.Data {
			out.Data[i] -= off
		}
		return out
	}
	ref := run(0)
	moved := maxAbsDiff(ref.Data, start0.Data)
	for _, off := range offsets[1:] {
		got := run(off)
		// Each shifted coordinate is rounded to its ulp at every step; allow a few of them.
		tol := 8 * steps * off * 0x1p-52
		if diff := maxAbsDiff(got.Data, ref.Data); diff > tol {
			t.Errorf("offset %g: particles differ from the unshifted flow by %.3g (tolerance %.3g, moved %.3g)",
				off, diff, tol, moved)
		}
	}
}

// TestNonFiniteInputs checks that a NaN or an infinity in any input set is an error naming the set, the point and
// the coordinate, for every estimator, KID, the witness and the flow.
func TestNonFiniteInputs(t *testing.T) {
	const n, d = 8, 9
	good := func() Points {
		r := rand.New(rand.NewPCG(47, 48))
		return randPoints(r, n, d, 0)
	}
	k := Gaussian{Sigma: 1}
	cases := []struct {
		name string
		sets [2]string // how the error names the first and the second argument
		call func(x, y Points) error
	}{
		{"MMD2Biased", [2]string{"first sample (x)", "second sample (y)"},
			func(x, y Points) error { _, err := MMD2Biased(k, x, y); return err }},
		{"MMD2Unbiased", [2]string{"first sample (x)", "second sample (y)"},
			func(x, y Points) error { _, err := MMD2Unbiased(k, x, y); return err }},
		{"KID", [2]string{"first sample (x)", "second sample (y)"},
			func(x, y Points) error { _, err := KID(x, y, 2); return err }},
		{"NewWitness", [2]string{"target", "current sample"},
			func(x, y Points) error { _, err := NewWitness(k, x, y); return err }},
		{"NewFlow", [2]string{"target", "current sample"},
			func(x, y Points) error { _, err := NewFlow(x, y, FlowConfig{Kernel: k, StepSize: 1}); return err }},
		{"Witness.Grads", [2]string{"witness points", "witness points"}, func(x, y Points) error {
			w, err := NewWitness(k, good(), good())
			if err != nil {
				return err
			}
			for _, z := range []Points{x, y} {
				if _, err := w.Grads(z); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tc := range cases {
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for side := range 2 {
				t.Run(fmt.Sprintf("%s/%v/arg%d", tc.name, v, side), func(t *testing.T) {
					args := [2]Points{good(), good()}
					args[side].Data[3*d+2] = v
					err := tc.call(args[0], args[1])
					if !errors.Is(err, ErrNonFinite) {
						t.Fatalf("err = %v, want one wrapping ErrNonFinite", err)
					}
					want := fmt.Sprintf("%s: point 3, coordinate 2 is %v", tc.sets[side], v)
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				})
			}
		}
	}
}
