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
