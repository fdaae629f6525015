package mmd

import (
	"errors"
	"math"
	"testing"
)

func TestNoiseSchedules(t *testing.T) {
	tests := []struct {
		s    NoiseSchedule
		n    []int
		want []float64
	}{
		{ConstantNoise{Beta: 0.3}, []int{0, 10, 1e6}, []float64{0.3, 0.3, 0.3}},
		{HalvingNoise(1, 1000), []int{0, 999, 1000, 2500, 9999}, []float64{1, 1, 0.5, 0.25, 1.0 / 512}},
		{DecayNoise{Beta0: 2, Factor: 0.1, Every: 3}, []int{0, 3, 7}, []float64{2, 0.2, 0.02}},
		{ListNoise{Betas: []float64{1, 0.5, 0.1}}, []int{0, 1, 2, 50}, []float64{1, 0.5, 0.1, 0.1}},
	}
	for _, tc := range tests {
		if err := tc.s.Validate(); err != nil {
			t.Errorf("%v: %v", tc.s, err)
		}
		for i, n := range tc.n {
			if got := tc.s.Level(n); math.Abs(got-tc.want[i]) > 1e-15 {
				t.Errorf("%v.Level(%d) = %g, want %g", tc.s, n, got, tc.want[i])
			}
		}
	}
}

func TestParseNoise(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for nil
		err  error
	}{
		{"none", "", nil},
		{"const:0.1", "constant(0.1)", nil},
		{"halve:1,1000", "halve(beta0=1, every=1000)", nil},
		{"decay:1,0.9,10", "decay(beta0=1, factor=0.9, every=10)", nil},
		{"list:1,0.5", "list([1 0.5])", nil},
		{"const", "", ErrParam},
		{"const:-1", "", ErrParam},
		{"halve:1,0", "", ErrParam},
		{"halve:1,2.5", "", ErrParam},
		{"decay:1,2,10", "", ErrParam},
		{"list:", "", ErrParam},
		{"list:1,x", "", ErrParam},
		{"gauss:1", "", ErrParam},
		{"none:1", "", ErrParam},
	}
	for _, tc := range tests {
		s, err := ParseNoise(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseNoise(%q) err = %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNoise(%q): %v", tc.in, err)
			continue
		}
		got := ""
		if s != nil {
			got = s.String()
		}
		if got != tc.want {
			t.Errorf("ParseNoise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
