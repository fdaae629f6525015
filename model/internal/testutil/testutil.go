// Package testutil holds the small numeric helpers shared by the tests of model and of its internal packages
// (test files cannot be shared across packages). Only tests import it.
package testutil

import "math/rand/v2"

// RandSlice returns n standard normal draws from rng.
func RandSlice(n int, rng *rand.Rand) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

// Dot is the inner product of a and b (b at least as long as a).
func Dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// To64 returns a float64 copy of s.
func To64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}
