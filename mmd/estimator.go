package mmd

// rowBlock is the number of rows per parallel work item for pairwise sums
// over n points in R^d: about 2^15 kernel-coordinate operations per item.
func rowBlock(n, d int) int {
	return max(1, (1<<15)/max(1, n*d))
}

// withinSums returns the sum of k(x_i, x_j) over i < j and the sum of
// k(x_i, x_i).
func withinSums(k Kernel, x Points) (upper, diag float64) {
	n := x.Len()
	if gk, ok := k.(gramKernel); ok && x.Dim >= gemmMinDim {
		upper = pairSumGram(gk, x, x, true)
	} else {
		upper = blockSum(n, rowBlock(n, x.Dim), func(lo, hi int) float64 {
			var s float64
			for i := lo; i < hi; i++ {
				xi := x.Row(i)
				for j := i + 1; j < n; j++ {
					s += k.Eval(xi, x.Row(j))
				}
			}
			return s
		})
	}
	for i := range n {
		xi := x.Row(i)
		diag += k.Eval(xi, xi)
	}
	return upper, diag
}

// crossSum returns the sum of k(x_i, y_j) over all i, j.
func crossSum(k Kernel, x, y Points) float64 {
	if gk, ok := k.(gramKernel); ok && x.Dim >= gemmMinDim {
		return pairSumGram(gk, x, y, false)
	}
	m := y.Len()
	return blockSum(x.Len(), rowBlock(m, x.Dim), func(lo, hi int) float64 {
		var s float64
		for i := lo; i < hi; i++ {
			xi := x.Row(i)
			for j := range m {
				s += k.Eval(xi, y.Row(j))
			}
		}
		return s
	})
}

func checkKernel(k Kernel) error {
	if k == nil {
		return errNilKernel
	}
	return k.Validate()
}

// MMD2Biased returns the biased (V-statistic) estimate of MMD^2(P, Q) from
// x ~ P (m points) and y ~ Q (n points):
//
//	1/m^2 sum_{i,j} k(x_i, x_j) + 1/n^2 sum_{i,j} k(y_i, y_j) - 2/(mn) sum_{i,j} k(x_i, y_j).
//
// It is the squared RKHS distance between the two empirical mean embeddings,
// so it is never negative. Each sample needs at least one point, all finite
// (a NaN or an infinity is an error wrapping [ErrNonFinite]).
func MMD2Biased(k Kernel, x, y Points) (float64, error) {
	if err := checkKernel(k); err != nil {
		return 0, err
	}
	if err := checkPair(x, y, 1); err != nil {
		return 0, err
	}
	m, n := float64(x.Len()), float64(y.Len())
	ux, dx := withinSums(k, x)
	uy, dy := withinSums(k, y)
	c := crossSum(k, x, y)
	return (2*ux+dx)/(m*m) + (2*uy+dy)/(n*n) - 2*c/(m*n), nil
}

// MMD2Unbiased returns the unbiased (U-statistic) estimate of MMD^2(P, Q)
// from x ~ P (m points) and y ~ Q (n points):
//
//	1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j) - 2/(mn) sum_{i,j} k(x_i, y_j).
//
// It can be negative. Each sample needs at least two points, all finite.
func MMD2Unbiased(k Kernel, x, y Points) (float64, error) {
	if err := checkKernel(k); err != nil {
		return 0, err
	}
	if err := checkPair(x, y, 2); err != nil {
		return 0, err
	}
	m, n := float64(x.Len()), float64(y.Len())
	ux, _ := withinSums(k, x)
	uy, _ := withinSums(k, y)
	c := crossSum(k, x, y)
	return 2*ux/(m*(m-1)) + 2*uy/(n*(n-1)) - 2*c/(m*n), nil
}
