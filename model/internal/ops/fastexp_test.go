package ops

import (
	"math"
	"testing"
)

func TestSigmoid32(t *testing.T) {
	worst := 0.0
	for x := -40.0; x <= 40; x += 0.001 {
		got := float64(sigmoid32(float32(x)))
		want := sigmoid(float64(float32(x)))
		rel := math.Abs(got-want) / want
		worst = math.Max(worst, rel)
	}
	if worst > 5e-7 {
		t.Errorf("sigmoid32 worst relative error %.3g", worst)
	}
	for _, x := range []float32{-200, -88, -87, 0, 87, 200} {
		s := sigmoid32(x)
		if math.IsNaN(float64(s)) || s < 0 || s > 1 {
			t.Errorf("sigmoid32(%v) = %v", x, s)
		}
	}
}

func BenchmarkSigmoid(b *testing.B) {
	x := make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(i%2000-1000) / 100
	}
	b.Run("float32", func(b *testing.B) {
		var s float32
		for i := 0; i < b.N; i++ {
			for _, v := range x {
				s += sigmoid32(v)
			}
		}
		_ = s
	})
	b.Run("float64", func(b *testing.B) {
		var s float64
		for i := 0; i < b.N; i++ {
			for _, v := range x {
				s += sigmoid(float64(v))
			}
		}
		_ = s
	})
}

// TestSigmoidsMatchScalar: the vector sigmoid (AVX2 where the CPU has it) is bit-for-bit sigmoid32 on every
// float32 pattern class that matters: a dense sweep, both signs of zero, the -87 cut-off and its neighbours,
// huge values, and every tail length.
func TestSigmoidsMatchScalar(t *testing.T) {
	var x []float32
	for v := -100.0; v <= 100; v += 0.00731 {
		x = append(x, float32(v))
	}
	x = append(x, 0, float32(math.Copysign(0, -1)), -87, math.Nextafter32(-87, 0), math.Nextafter32(-87, -100),
		87, 88, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30)
	for i := 0; i < 4096; i++ { // random bit patterns of finite floats
		b := uint32(i)*2654435761 ^ 0x5bd1e995
		if v := math.Float32frombits(b); !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			x = append(x, v)
		}
	}
	for tail := 0; tail < 9; tail++ {
		in := x[:len(x)-tail]
		got := make([]float32, len(in))
		sigmoids(in, got)
		for i, v := range in {
			if w := sigmoid32(v); math.Float32bits(got[i]) != math.Float32bits(w) {
				t.Fatalf("tail %d: sigmoids(%v) = %v (%#x), sigmoid32 = %v (%#x)", tail, v, got[i],
					math.Float32bits(got[i]), w, math.Float32bits(w))
			}
		}
	}
	if haveSigmoid8 {
		nan := []float32{float32(math.NaN()), 1, 2, 3, 4, 5, 6, 7}
		out := make([]float32, 8)
		sigmoids(nan, out)
		if !math.IsNaN(float64(out[0])) {
			t.Errorf("sigmoid of NaN = %v, want NaN", out[0])
		}
	}
}
