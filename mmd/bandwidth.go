package mmd

import (
	"fmt"
	"math"
	"sort"
)

// AdaptiveBandwidth returns the width alpha* of the seed talk's adaptive
// kernel slide: for P = N(0, sigma^2 I) and Q = N(mu, sigma^2 I) in R^d, d =
// len(mu), and the normalised Gaussian kernel
// k_alpha(x, y) = alpha^-d exp(-||x - y||^2 / (2 alpha^2)), the alpha >= 0
// that maximises ||grad_mu MMD_alpha^2(P, Q)|| is
//
//	alpha* = ReLU(||mu||^2/(d+2) - 2 sigma^2)^(1/2).
//
// Far-apart distributions call for a wide kernel and close ones for a narrow
// kernel; 0 means "as narrow as possible".
//
// Derivation: MMD_alpha^2 = 2 s^(-d/2) (1 - exp(-||mu||^2/(2s))) with
// s = alpha^2 + 2 sigma^2, so ||grad_mu MMD^2|| = 2 ||mu|| s^(-d/2-1)
// exp(-||mu||^2/(2s)), which is maximal at s = ||mu||^2/(d+2).
func AdaptiveBandwidth(mu []float64, sigma float64) (float64, error) {
	if len(mu) == 0 {
		return 0, fmt.Errorf("mmd: adaptive bandwidth: empty mean: %w", ErrDim)
	}
	if !(sigma >= 0) || math.IsInf(sigma, 1) {
		return 0, fmt.Errorf("mmd: adaptive bandwidth: sigma = %v, need a finite sigma >= 0: %w", sigma, ErrParam)
	}
	r2 := dot(mu, mu)
	if math.IsNaN(r2) || math.IsInf(r2, 0) {
		return 0, fmt.Errorf("mmd: adaptive bandwidth: mean is not finite: %w", ErrParam)
	}
	v := r2/float64(len(mu)+2) - 2*sigma*sigma
	if v <= 0 {
		return 0, nil
	}
	return math.Sqrt(v), nil
}

// MedianDistance returns the median Euclidean distance between distinct pairs of the first n points of p (all
// points when n <= 0 or n > p.Len()): the median heuristic for the width of a Gaussian kernel. With an even
// number of pairs it is the upper of the two middle distances.
func MedianDistance(p Points, n int) (float64, error) {
	if err := p.check("points", 2); err != nil {
		return 0, fmt.Errorf("mmd: median distance: %w", err)
	}
	if n <= 0 || n > p.Len() {
		n = p.Len()
	}
	if n < 2 {
		return 0, fmt.Errorf("mmd: median distance of %d points: %w", n, ErrEmpty)
	}
	d := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := math.Sqrt(sqDist(p.Row(i), p.Row(j)))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("mmd: median distance: points %d and %d are %v apart (not finite): %w", i, j, v, ErrParam)
			}
			d = append(d, v)
		}
	}
	sort.Float64s(d)
	return d[len(d)/2], nil
}
