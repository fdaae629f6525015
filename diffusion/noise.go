package diffusion

import (
	"fmt"
	"math/rand/v2"
)

// Forward writes x_t = alpha_t x0 + beta_t eps into dst. All three slices must have the same length; dst may alias
// x0 or eps.
func (s Schedule) Forward(dst, x0, eps []float32, t float64) error {
	if len(dst) != len(x0) || len(eps) != len(x0) {
		return fmt.Errorf("diffusion: Forward: lengths differ: dst %d, x0 %d, eps %d", len(dst), len(x0), len(eps))
	}
	a, b := s.AlphaBeta(t)
	a32, b32 := float32(a), float32(b)
	for i := range dst {
		dst[i] = a32*x0[i] + b32*eps[i]
	}
	return nil
}

// Normal fills dst with independent N(0, 1) draws from rng.
func Normal(dst []float32, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}

// Noise writes a fresh forward-noised x_t = alpha_t x0 + beta_t eps into dst, drawing eps from rng.
// dst may alias x0.
func (s Schedule) Noise(dst, x0 []float32, t float64, rng *rand.Rand) error {
	if len(dst) != len(x0) {
		return fmt.Errorf("diffusion: Noise: lengths differ: dst %d, x0 %d", len(dst), len(x0))
	}
	a, b := s.AlphaBeta(t)
	for i := range dst {
		dst[i] = float32(a*float64(x0[i]) + b*rng.NormFloat64())
	}
	return nil
}
