package mmd

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// fdGrad is the central finite-difference gradient of f at x.
func fdGrad(f func([]float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	xx := append([]float64(nil), x...)
	for i := range xx {
		xx[i] = x[i] + h
		fp := f(xx)
		xx[i] = x[i] - h
		fm := f(xx)
		xx[i] = x[i]
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func TestKernelGradients(t *testing.T) {
	kernels := []Kernel{
		Gaussian{Sigma: 0.7},
		IMQ{C: 1, Beta: -0.5},
		IMQ{C: 0.5, Beta: -0.8},
		MixedRQ{},
		MixedRQ{Alphas: []float64{0.3, 3}, Linear: true},
		Linear{},
		KIDKernel(),
		Polynomial{Degree: 2, Gamma: 0.3, Coef0: 0.5},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, k := range kernels {
		t.Run(k.String(), func(t *testing.T) {
			for range 5 {
				x := randPoints(r, 1, 4, 0).Data
				y := randPoints(r, 1, 4, 0.2).Data
				got := make([]float64, 4)
				got[0] = 1 // AddGrad must add, not overwrite
				k.AddGrad(got, 2, x, y)
				got[0]--
				want := fdGrad(func(z []float64) float64 { return 2 * k.Eval(z, y) }, x, 1e-5)
				if d := maxAbsDiff(got, want); d > 1e-8 {
					t.Errorf("grad %v, finite differences %v (max diff %.2g)", got, want, d)
				}
			}
		})
	}
}

func TestKernelValues(t *testing.T) {
	x, y := []float64{1, 2}, []float64{0, 4} // ||x-y||^2 = 5, x.y = 8
	tests := []struct {
		k    Kernel
		want float64
	}{
		{Gaussian{Sigma: 2}, math.Exp(-5.0 / 8)},
		{IMQ{C: 2, Beta: -0.5}, 1 / 3.0},
		{MixedRQ{Alphas: []float64{1}}, 1 / 3.5},
		{MixedRQ{Alphas: []float64{0.5, 2}, Linear: true}, 1/math.Sqrt(6) + 1/(2.25*2.25) + 8},
		{Linear{}, 8},
		{KIDKernel(), 125},
		{Polynomial{Degree: 2, Gamma: 1, Coef0: 1}, 81},
	}
	for _, tc := range tests {
		if got := tc.k.Eval(x, y); math.Abs(got-tc.want) > 1e-14 {
			t.Errorf("%v: k = %.16g, want %.16g", tc.k, got, tc.want)
		}
	}
	if got, want := (MixedRQ{}).Eval(x, x), 5.0; got != want {
		t.Errorf("mixed RQ at 0 = %g, want %g (one per scale)", got, want)
	}
}

func TestParseKernel(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"gaussian:0.5", "gaussian(sigma=0.5)", nil},
		{"imq:1", "imq(c=1, beta=-0.5)", nil},
		{"imq:2,-1", "imq(c=2, beta=-1)", nil},
		{"rq", "mixed-rq(alphas=[0.2 0.5 1 2 5])", nil},
		{"rq+linear:1,2", "mixed-rq(alphas=[1 2], +linear)", nil},
		{"linear", "linear", nil},
		{"poly:2", "polynomial(degree=2, gamma=1/d, coef0=1)", nil},
		{"kid", "polynomial(degree=3, gamma=1/d, coef0=1)", nil},
		{"gaussian", "", ErrParam},
		{"gaussian:-1", "", ErrParam},
		{"gaussian:abc", "", ErrParam},
		{"imq:1,0.5", "", ErrParam},
		{"rq:0", "", ErrParam},
		{"poly:2.5", "", ErrParam},
		{"linear:3", "", ErrParam},
		{"laplace:1", "", ErrParam},
	}
	for _, tc := range tests {
		k, err := ParseKernel(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseKernel(%q) err = %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKernel(%q): %v", tc.in, err)
			continue
		}
		if k.String() != tc.want {
			t.Errorf("ParseKernel(%q) = %s, want %s", tc.in, k, tc.want)
		}
	}
}

func TestKernelValidate(t *testing.T) {
	bad := []Kernel{
		Gaussian{}, Gaussian{Sigma: math.Inf(1)}, Gaussian{Sigma: math.NaN()},
		IMQ{C: 1}, IMQ{Beta: -0.5}, MixedRQ{Alphas: []float64{1, -1}},
		Polynomial{}, Polynomial{Degree: 3, Gamma: -1}, Polynomial{Degree: 3, Coef0: math.NaN()},
	}
	for _, k := range bad {
		if err := k.Validate(); !errors.Is(err, ErrParam) {
			t.Errorf("%v: Validate() = %v, want ErrParam", k, err)
		}
	}
}
