package mmd

import (
	"errors"
	"math"
	"testing"
)

// gaussConv returns the integral over z of exp(-z^2/(2 alpha^2)) times the
// N(m, v) density, by the trapezoidal rule on a grid fine enough for both
// factors; for these rapidly decaying smooth integrands it is accurate to
// near machine precision.
func gaussConv(m, v, alpha float64) float64 {
	s := math.Sqrt(v)
	h := math.Min(alpha, s) / 8
	lo, hi := math.Min(m-12*s, -12*alpha), math.Max(m+12*s, 12*alpha)
	n := int(math.Ceil((hi - lo) / h))
	h = (hi - lo) / float64(n)
	var sum float64
	for i := 0; i <= n; i++ {
		z := lo + float64(i)*h
		w := 1.0
		if i == 0 || i == n {
			w = 0.5
		}
		sum += w * math.Exp(-z*z/(2*alpha*alpha)-(z-m)*(z-m)/(2*v))
	}
	return sum * h / math.Sqrt(2*math.Pi*v)
}

// mmdGradNorm returns ||grad_mu MMD_alpha^2(N(0, sigma^2 I), N(mu, sigma^2 I))||
// for the normalised Gaussian kernel, computed numerically: the kernel
// factorises over coordinates, each expectation is a 1-D integral over the
// difference of two independent points (variance 2 sigma^2), and the
// derivative in each mu_k is a central finite difference.
func mmdGradNorm(mu []float64, sigma, alpha float64) float64 {
	v := 2 * sigma * sigma
	d := float64(len(mu))
	ints := make([]float64, len(mu))
	for i, m := range mu {
		ints[i] = gaussConv(m, v, alpha)
	}
	var norm2 float64
	for k, m := range mu {
		h := 1e-5 * math.Max(1, math.Abs(m))
		dk := (gaussConv(m+h, v, alpha) - gaussConv(m-h, v, alpha)) / (2 * h)
		prod := dk
		for i := range mu {
			if i != k {
				prod *= ints[i]
			}
		}
		// MMD^2 = alpha^-d (2 prod_i I(0) - 2 prod_i I(mu_i)).
		g := -2 * math.Pow(alpha, -d) * prod
		norm2 += g * g
	}
	return math.Sqrt(norm2)
}

// argmax maximises f on [lo, hi] by a grid search and golden-section
// refinement.
func argmax(f func(float64) float64, lo, hi float64) float64 {
	const n = 200
	best, bestV := lo, math.Inf(-1)
	for i := 0; i <= n; i++ {
		a := lo + (hi-lo)*float64(i)/n
		if v := f(a); v > bestV {
			best, bestV = a, v
		}
	}
	step := (hi - lo) / n
	a, b := math.Max(lo, best-step), math.Min(hi, best+step)
	g := (math.Sqrt(5) - 1) / 2
	for b-a > 1e-7 {
		c, d := b-g*(b-a), a+g*(b-a)
		if f(c) > f(d) {
			b = d
		} else {
			a = c
		}
	}
	return (a + b) / 2
}

func TestAdaptiveBandwidthIsNumericArgmax(t *testing.T) {
	tests := []struct {
		mu    []float64
		sigma float64
	}{
		{[]float64{3}, 0.5},
		{[]float64{2, -1}, 0.3},
		{[]float64{3, 3, 3, 3, 3}, 1},
		{[]float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, 0.2},
		{[]float64{4, 0, -2}, 0.1},
	}
	for _, tc := range tests {
		want, err := AdaptiveBandwidth(tc.mu, tc.sigma)
		if err != nil {
			t.Fatal(err)
		}
		if want <= 0 {
			t.Fatalf("test case %v has alpha* = 0; use the inactive test", tc)
		}
		got := argmax(func(a float64) float64 { return mmdGradNorm(tc.mu, tc.sigma, a) }, 0.05, 3*want+1)
		t.Logf("mu=%v sigma=%g: numeric %.7f formula %.7f", tc.mu, tc.sigma, got, want)
		if math.Abs(got-want) > 1e-3 {
			t.Errorf("mu=%v sigma=%g: numeric argmax %.6f, formula %.6f", tc.mu, tc.sigma, got, want)
		}
	}
}

// TestAdaptiveBandwidthInactive checks the ReLU branch: when the means are
// close, the gradient norm keeps growing as the kernel narrows.
func TestAdaptiveBandwidthInactive(t *testing.T) {
	mu, sigma := []float64{1, 0, 0}, 1.0
	if a, err := AdaptiveBandwidth(mu, sigma); err != nil || a != 0 {
		t.Fatalf("alpha* = %g, %v; want 0", a, err)
	}
	prev := math.Inf(1)
	for a := 0.1; a < 3; a += 0.1 {
		v := mmdGradNorm(mu, sigma, a)
		if v >= prev {
			t.Errorf("gradient norm grows from %g to %g at alpha %.1f", prev, v, a)
		}
		prev = v
	}
}

func TestAdaptiveBandwidthErrors(t *testing.T) {
	if _, err := AdaptiveBandwidth(nil, 1); !errors.Is(err, ErrDim) {
		t.Errorf("empty mu: %v", err)
	}
	if _, err := AdaptiveBandwidth([]float64{1}, -1); !errors.Is(err, ErrParam) {
		t.Errorf("negative sigma: %v", err)
	}
	if _, err := AdaptiveBandwidth([]float64{math.NaN()}, 1); !errors.Is(err, ErrParam) {
		t.Errorf("nan mu: %v", err)
	}
}

func TestMedianDistance(t *testing.T) {
	pts := func(rows ...[]float64) Points {
		p, err := PointsFromRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	line := pts([]float64{0}, []float64{1}, []float64{3}, []float64{7}) // distances 1 2 3 4 6 7
	tests := []struct {
		name    string
		p       Points
		n       int
		want    float64
		wantErr error
	}{
		{"all points, even pair count: upper middle", line, 0, 4, nil},
		{"first three points: 1 2 3", line, 3, 2, nil},
		{"n beyond Len means all", line, 99, 4, nil},
		{"2-d", pts([]float64{0, 0}, []float64{3, 4}, []float64{0, 8}), 0, 5, nil},
		{"one point", pts([]float64{1}), 0, 0, ErrEmpty},
		{"n = 1", line, 1, 0, ErrEmpty},
		{"not finite", pts([]float64{0}, []float64{math.Inf(1)}), 0, 0, ErrNonFinite},
		{"distance overflows", pts([]float64{-1e300}, []float64{1e300}), 0, 0, ErrParam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MedianDistance(tc.p, tc.n)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("MedianDistance = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
