package mmd

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkFlowStep measures one noise-injected flow step with N = M = 1000
// particles and targets and a Gaussian kernel.
func BenchmarkFlowStep(b *testing.B) {
	for _, d := range []int{2, 50} {
		b.Run(map[int]string{2: "d=2", 50: "d=50"}[d], func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			target, particles := randPoints(r, 1000, d, 0), randPoints(r, 1000, d, 1)
			f, err := NewFlow(target, particles, FlowConfig{Kernel: Gaussian{Sigma: 1}, StepSize: 0.01, Noise: ConstantNoise{Beta: 0.1}})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := f.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMMD2Unbiased measures the U-statistic on 1000 + 1000 points.
func BenchmarkMMD2Unbiased(b *testing.B) {
	for _, d := range []int{2, 50} {
		b.Run(map[int]string{2: "d=2", 50: "d=50"}[d], func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			x, y := randPoints(r, 1000, d, 0), randPoints(r, 1000, d, 1)
			for b.Loop() {
				if _, err := MMD2Unbiased(Gaussian{Sigma: 1}, x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKID measures the KID estimate of two sets of 2000 Inception-sized
// (d = 2048) feature vectors in 4 blocks.
func BenchmarkKID(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	x, y := randPoints(r, 2000, 2048, 0), randPoints(r, 2000, 2048, 0.1)
	for b.Loop() {
		if _, err := KID(x, y, 4); err != nil {
			b.Fatal(err)
		}
	}
}
