package diffusion

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestAlphaBetaKnownValues(t *testing.T) {
	s := Default()
	tests := []struct {
		t     float64
		alpha float64
	}{
		{0, 1},
		{1, math.Exp(-19.9/4 - 0.05)},
		{0.5, math.Exp(-0.25*19.9/4 - 0.025)},
		{1e-3, math.Exp(-1e-6*19.9/4 - 5e-5)},
	}
	for _, tc := range tests {
		a, b := s.AlphaBeta(tc.t)
		if math.Abs(a-tc.alpha) > 1e-15*tc.alpha {
			t.Errorf("alpha(%v) = %v, want %v", tc.t, a, tc.alpha)
		}
		if d := a*a + b*b - 1; math.Abs(d) > 1e-14 {
			t.Errorf("t=%v: alpha^2+beta^2-1 = %v", tc.t, d)
		}
	}
}

// TestBetaSmallT checks beta_t against a 200-bit evaluation where 1 - alpha^2 cancels catastrophically.
func TestBetaSmallT(t *testing.T) {
	s := Default()
	for _, tt := range []float64{1e-9, 1e-6, 1e-3, 0.01} {
		la := s.logAlpha(tt)
		// 1 - exp(2 la) = -(2la + (2la)^2/2 + ...), summed in big floats.
		x := new(big.Float).SetPrec(200).SetFloat64(2 * la)
		term := new(big.Float).SetPrec(200).Set(x)
		sum := new(big.Float).SetPrec(200)
		for k := 1; k < 40; k++ {
			sum.Add(sum, term)
			term.Mul(term, x)
			term.Quo(term, new(big.Float).SetInt64(int64(k+1)))
		}
		want, _ := sum.Neg(sum).Float64()
		want = math.Sqrt(want)
		if got := s.Beta(tt); math.Abs(got-want) > 1e-14*want {
			t.Errorf("beta(%v) = %.17g, want %.17g", tt, got, want)
		}
	}
}

func TestScheduleMonotone(t *testing.T) {
	s := Default()
	prevA, prevB := 2.0, -1.0
	for i := 0; i <= 1000; i++ {
		tt := s.TMin + (1-s.TMin)*float64(i)/1000
		a, b := s.AlphaBeta(tt)
		if !(a < prevA && b > prevB) {
			t.Fatalf("not monotone at t=%v: alpha %v (prev %v), beta %v (prev %v)", tt, a, prevA, b, prevB)
		}
		prevA, prevB = a, b
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		ok   bool
	}{
		{"default", Default(), true},
		{"negative beta min", Schedule{-1, 20, 1e-3}, false},
		{"max below min", Schedule{1, 0.5, 1e-3}, false},
		{"nan", Schedule{math.NaN(), 20, 1e-3}, false},
		{"inf max", Schedule{0.1, math.Inf(1), 1e-3}, false},
		{"tmin zero", Schedule{0.1, 20, 0}, false},
		{"tmin one", Schedule{0.1, 20, 1}, false},
	}
	for _, tc := range tests {
		err := tc.s.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrSchedule) {
			t.Errorf("%s: error %v does not wrap ErrSchedule", tc.name, err)
		}
	}
}

// TestPairDistance checks PairDistance against its definition at a few levels and its limits: zero for a point
// and itself, 2(1 - alpha_t) to the clean image (1 - alpha_t)^2 + beta_t^2.
func TestPairDistance(t *testing.T) {
	s := Default()
	for _, tc := range []struct{ t, r float64 }{{0.5, 0.4}, {1, 0.8}, {0.01, 0.008}, {0.3, 0}} {
		at, bt := s.AlphaBeta(tc.t)
		ar, br := s.AlphaBeta(tc.r)
		want := (ar-at)*(ar-at) + (br-bt)*(br-bt)
		if got := s.PairDistance(tc.t, tc.r); math.Abs(got-want) > 1e-15 {
			t.Errorf("PairDistance(%g, %g) = %g, want %g", tc.t, tc.r, got, want)
		}
	}
	if got := s.PairDistance(0.4, 0.4); got != 0 {
		t.Errorf("PairDistance(t, t) = %g, want 0", got)
	}
	if got, want := s.PairDistance(0.3, 0), 2*(1-s.Alpha(0.3)); math.Abs(got-want) > 1e-14 {
		t.Errorf("PairDistance(0.3, 0) = %g, want 2(1 - alpha) = %g", got, want)
	}
}
