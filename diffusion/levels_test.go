package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		T          int
		tMax, tMin float64
		sp         Spacing
		want       []float64
	}{
		{1, 1, 1e-3, Uniform, []float64{1e-3}},
		{2, 1, 0.1, Uniform, []float64{1, 0.1}},
		{5, 1, 0, Uniform, nil}, // invalid tMin
		{5, 0.9, 0.1, Uniform, []float64{0.9, 0.7, 0.5, 0.3, 0.1}},
		{5, 0.9, 0.1, Quadratic, []float64{0.9, 0.1 + 0.8*0.5625, 0.1 + 0.8*0.25, 0.1 + 0.8*0.0625, 0.1}},
		{0, 1, 0.1, Uniform, nil},
		{3, 0.1, 0.5, Uniform, nil},
		{3, 1.5, 0.5, Uniform, nil},
		{3, 1, 0.5, Spacing(7), nil},
	}
	for _, tc := range tests {
		got, err := Levels(tc.T, tc.tMax, tc.tMin, tc.sp)
		if tc.want == nil {
			if err == nil {
				t.Errorf("Levels(%d, %v, %v, %v) accepted invalid input", tc.T, tc.tMax, tc.tMin, tc.sp)
			}
			continue
		}
		if err != nil {
			t.Errorf("Levels(%d, %v, %v, %v): %v", tc.T, tc.tMax, tc.tMin, tc.sp, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Fatalf("len %d, want %d", len(got), len(tc.want))
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-15 {
				t.Errorf("Levels(%d, %v, %v, %v)[%d] = %v, want %v", tc.T, tc.tMax, tc.tMin, tc.sp, i, got[i], tc.want[i])
			}
		}
	}
}

func TestLevelsDescending(t *testing.T) {
	for _, sp := range []Spacing{Uniform, Quadratic} {
		lv, err := Levels(50, 1, 1e-3, sp)
		if err != nil {
			t.Fatal(err)
		}
		if lv[0] != 1 || lv[49] != 1e-3 {
			t.Errorf("%v: end points %v, %v", sp, lv[0], lv[49])
		}
		for i := 1; i < len(lv); i++ {
			if !(lv[i] < lv[i-1]) {
				t.Errorf("%v: not strictly descending at %d", sp, i)
			}
		}
	}
}

func TestSampleT(t *testing.T) {
	s := Default()
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 100000
	for _, tc := range []struct {
		d    TDist
		mean float64
	}{
		{TUniform, s.TMin + (1-s.TMin)/2},
		{TQuad, s.TMin + (1-s.TMin)/3},
	} {
		var m float64
		for range n {
			x := s.SampleT(tc.d, rng)
			if x < s.TMin || x > 1 {
				t.Fatalf("%v: t=%v outside [TMin, 1]", tc.d, x)
			}
			m += x
		}
		m /= n
		if math.Abs(m-tc.mean) > 0.005 {
			t.Errorf("%v: mean %v, want %v", tc.d, m, tc.mean)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"uniform", true}, {"quad", true}, {"QUAD", true}, {"cosine", false}, {"", false}} {
		d, err := ParseTDist(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseTDist(%q) = %v, %v", tc.in, d, err)
		}
		if err == nil {
			if back, _ := ParseTDist(d.String()); back != d {
				t.Errorf("round trip of %v", d)
			}
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"uniform", true}, {"quadratic", true}, {"quad", true}, {"log", false}} {
		sp, err := ParseSpacing(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseSpacing(%q) = %v, %v", tc.in, sp, err)
		}
		if err == nil {
			if back, _ := ParseSpacing(sp.String()); back != sp {
				t.Errorf("round trip of %v", sp)
			}
		}
	}
}
