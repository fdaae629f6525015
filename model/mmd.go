package model

import (
	"fmt"
	"math"
)

// MMD2Unbiased returns the unbiased estimate of MMD^2 between two sets of feature rows under the linear kernel
// k(u, v) = <u, v>, in O((n+m) d) time:
//
//	(||sum a||^2 - sum ||a_i||^2) / (n(n-1)) + (||sum b||^2 - sum ||b_j||^2) / (m(m-1)) - 2 <sum a, sum b> / (nm)
//
// a holds n rows and b holds m rows of d values each (n, m >= 2). The rows are first centred on their common mean
// (MMD^2 does not change under a common shift), so the expansion keeps its precision for features far from the
// origin; sums are accumulated in float64. A NaN or an infinity is an error naming the set and the row.
func MMD2Unbiased[T ~float32 | ~float64](a, b []T, d int) (float64, error) {
	if d < 1 || len(a)%d != 0 || len(b)%d != 0 {
		return 0, fmt.Errorf("model: MMD2Unbiased: %d and %d values are not whole rows of %d", len(a), len(b), d)
	}
	n, m := len(a)/d, len(b)/d
	if n < 2 || m < 2 {
		return 0, fmt.Errorf("model: MMD2Unbiased: need at least 2 rows on each side, got %d and %d", n, m)
	}
	for _, set := range []struct {
		name string
		x    []T
	}{{"a", a}, {"b", b}} {
		for i, v := range set.x {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return 0, fmt.Errorf("model: MMD2Unbiased: %s row %d, value %d is %v", set.name, i/d, i%d, f)
			}
		}
	}
	c := make([]float64, d)
	for _, x := range [][]T{a, b} {
		for i := 0; i < len(x); i += d {
			for k, v := range x[i : i+d] {
				c[k] += float64(v)
			}
		}
	}
	for k := range c {
		c[k] /= float64(n + m)
	}
	sa, ssa := rowSums(a, c)
	sb, ssb := rowSums(b, c)
	var aa, bb, ab float64
	for k := range sa {
		aa += sa[k] * sa[k]
		bb += sb[k] * sb[k]
		ab += sa[k] * sb[k]
	}
	fn, fm := float64(n), float64(m)
	return (aa-ssa)/(fn*(fn-1)) + (bb-ssb)/(fm*(fm-1)) - 2*ab/(fn*fm), nil
}

// rowSums returns the column sums of the rows of x - c (c has one value per column) and the sum of their squared
// norms.
func rowSums[T ~float32 | ~float64](x []T, c []float64) (sum []float64, sumSq float64) {
	d := len(c)
	sum = make([]float64, d)
	for i := 0; i < len(x); i += d {
		for k, v := range x[i : i+d] {
			f := float64(v) - c[k]
			sum[k] += f
			sumSq += f * f
		}
	}
	return sum, sumSq
}
