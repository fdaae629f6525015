package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestForward(t *testing.T) {
	s := Default()
	x0 := []float32{-1, 0, 0.5, 1}
	eps := []float32{0.3, -2, 1, 0}
	dst := make([]float32, 4)
	tt := 0.37
	if err := s.Forward(dst, x0, eps, tt); err != nil {
		t.Fatal(err)
	}
	a, b := s.AlphaBeta(tt)
	for i := range dst {
		want := a*float64(x0[i]) + b*float64(eps[i])
		if math.Abs(float64(dst[i])-want) > 1e-6 {
			t.Errorf("dst[%d] = %v, want %v", i, dst[i], want)
		}
	}
	if err := s.Forward(dst[:3], x0, eps, tt); err == nil {
		t.Error("Forward accepted mismatched lengths")
	}
	// In place.
	if err := s.Forward(x0, x0, eps, tt); err != nil || x0[2] != dst[2] {
		t.Errorf("in-place Forward: %v, got %v want %v", err, x0[2], dst[2])
	}
}

func TestNoiseStatistics(t *testing.T) {
	s := Default()
	const n = 200000
	x0 := make([]float32, n)
	for i := range x0 {
		x0[i] = 0.5
	}
	dst := make([]float32, n)
	tt := 0.3
	if err := s.Noise(dst, x0, tt, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	var m, v float64
	for _, x := range dst {
		m += float64(x)
	}
	m /= n
	for _, x := range dst {
		v += (float64(x) - m) * (float64(x) - m)
	}
	v /= n
	a, b := s.AlphaBeta(tt)
	if math.Abs(m-0.5*a) > 4*b/math.Sqrt(n) {
		t.Errorf("mean %v, want %v", m, 0.5*a)
	}
	if math.Abs(v-b*b) > 0.02*b*b {
		t.Errorf("variance %v, want %v", v, b*b)
	}
	// Same seed, same noise.
	again := make([]float32, n)
	_ = s.Noise(again, x0, tt, rand.New(rand.NewPCG(1, 2)))
	for i := range dst {
		if dst[i] != again[i] {
			t.Fatalf("not deterministic at %d", i)
		}
	}
}

func TestNormal(t *testing.T) {
	dst := make([]float32, 100000)
	Normal(dst, rand.New(rand.NewPCG(3, 4)))
	var m, v float64
	for _, x := range dst {
		m += float64(x)
		v += float64(x) * float64(x)
	}
	m /= float64(len(dst))
	v = v/float64(len(dst)) - m*m
	if math.Abs(m) > 0.02 || math.Abs(v-1) > 0.02 {
		t.Errorf("mean %v var %v", m, v)
	}
}
