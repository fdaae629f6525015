package model

import "fmt"

// MMD2Unbiased returns the unbiased estimate of MMD^2 between two sets of feature rows under the linear kernel
// k(u, v) = <u, v>, in O((n+m) d) time:
//
//	(||sum a||^2 - sum ||a_i||^2) / (n(n-1)) + (||sum b||^2 - sum ||b_j||^2) / (m(m-1)) - 2 <sum a, sum b> / (nm)
//
// a holds n rows and b holds m rows of d values each (n, m >= 2). Sums are accumulated in float64.
func MMD2Unbiased[T ~float32 | ~float64](a, b []T, d int) (float64, error) {
	if d < 1 || len(a)%d != 0 || len(b)%d != 0 {
		return 0, fmt.Errorf("model: MMD2Unbiased: %d and %d values are not whole rows of %d", len(a), len(b), d)
	}
	n, m := len(a)/d, len(b)/d
	if n < 2 || m < 2 {
		return 0, fmt.Errorf("model: MMD2Unbiased: need at least 2 rows on each side, got %d and %d", n, m)
	}
	sa, ssa := rowSums(a, d)
	sb, ssb := rowSums(b, d)
	var aa, bb, ab float64
	for k := range sa {
		aa += sa[k] * sa[k]
		bb += sb[k] * sb[k]
		ab += sa[k] * sb[k]
	}
	fn, fm := float64(n), float64(m)
	return (aa-ssa)/(fn*(fn-1)) + (bb-ssb)/(fm*(fm-1)) - 2*ab/(fn*fm), nil
}

// rowSums returns the column sums of the rows of x and the sum of their squared norms.
func rowSums[T ~float32 | ~float64](x []T, d int) (sum []float64, sumSq float64) {
	sum = make([]float64, d)
	for i := 0; i < len(x); i += d {
		for k, v := range x[i : i+d] {
			f := float64(v)
			sum[k] += f
			sumSq += f * f
		}
	}
	return sum, sumSq
}
