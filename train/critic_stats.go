package train

import (
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/dmmd/dmmd/model"
)

// featureStats computes the feature statistics of one level (LevelDiag without the levels and the gradient terms)
// from the noisy set's features a and the reference set's b, n rows of d values each, and returns the mean gap
// c = mean b - mean a.
func featureStats(a, b []float64, n, d int) (LevelDiag, []float64, error) {
	var lv LevelDiag
	mmd2, err := model.MMD2Unbiased(a, b, d)
	if err != nil {
		return lv, nil, err
	}
	ma, mb := meanRow(a, n, d), meanRow(b, n, d)
	c := make([]float64, d)
	floats.SubTo(c, mb, ma)
	c2 := floats.Dot(c, c)
	lv.MMD2, lv.MMD2Biased, lv.CNorm = mmd2, c2, math.Sqrt(c2)
	fa, fb := rowDots(a, c, n, d), rowDots(b, c, n, d)
	var varB float64
	lv.WitnessNoisyMean, lv.WitnessNoisyStd, _ = meanStd(fa)
	lv.WitnessRefMean, lv.WitnessRefStd, varB = meanStd(fb)
	_, prA := participationRatio(a, ma, n, d)
	trB, prB := participationRatio(b, mb, n, d)
	lv.PRNoisy, lv.PRRef = prA, prB
	if c2 > 0 && trB > 0 { // Var <b, u> = Var <b, c> / ||c||^2; tr Cov(b) = trB
		lv.VarAlongC = min(1, varB/c2/trB)
	}
	return lv, c, nil
}

// meanRow returns the mean of the n rows of x.
func meanRow(x []float64, n, d int) []float64 {
	m := make([]float64, d)
	for i := range n {
		floats.Add(m, x[i*d:(i+1)*d])
	}
	floats.Scale(1/float64(n), m)
	return m
}

// rowDots returns <x_i, v> for the n rows of x.
func rowDots(x, v []float64, n, d int) []float64 {
	out := make([]float64, n)
	for i := range n {
		out[i] = floats.Dot(x[i*d:(i+1)*d], v)
	}
	return out
}

// meanStd returns the mean, the standard deviation and the variance (dividing by n - 1) of v.
func meanStd(v []float64) (mean, std, variance float64) {
	n := float64(len(v))
	mean = floats.Sum(v) / n
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	variance /= n - 1
	return mean, math.Sqrt(variance), variance
}

// participationRatio returns tr(C) and the participation ratio tr(C)^2 / tr(C^2) of the covariance
// C = Xc^T Xc / (n-1) of the n rows of x (Xc: the rows minus their mean m), through the n x n Gram matrix
// K = Xc Xc^T: tr(C) = tr(K)/(n-1) and tr(C^2) = ||K||_F^2/(n-1)^2, so the ratio is tr(K)^2/||K||_F^2 and costs
// n(n+1)/2 dot products of length d (no eigendecomposition). The ratio is 0 when the rows do not vary.
func participationRatio(x, m []float64, n, d int) (trace, ratio float64) {
	xc := make([]float64, n*d)
	for i := range n {
		floats.SubTo(xc[i*d:(i+1)*d], x[i*d:(i+1)*d], m)
	}
	var tr, fro float64
	for i := range n {
		ri := xc[i*d : (i+1)*d]
		for j := 0; j < i; j++ {
			k := floats.Dot(ri, xc[j*d:(j+1)*d])
			fro += 2 * k * k
		}
		k := floats.Dot(ri, ri)
		tr += k
		fro += k * k
	}
	trace = tr / float64(n-1)
	if fro == 0 {
		return trace, 0
	}
	return trace, tr * tr / fro
}

// gradStats returns the mean over the n images of the cosine between the witness gradient g_i and x0_i - xt_i
// (0 for a zero vector) and the mean ||g_i||, in float64.
func gradStats(g, x0, xt []float32, n, size int) (cos, norm float64) {
	for i := range n {
		var gr, gg, rr float64
		for k := i * size; k < (i+1)*size; k++ {
			gi, ri := float64(g[k]), float64(x0[k])-float64(xt[k])
			gr += gi * ri
			gg += gi * gi
			rr += ri * ri
		}
		if gg > 0 && rr > 0 {
			cos += gr / math.Sqrt(gg*rr)
		}
		norm += math.Sqrt(gg)
	}
	return cos / float64(n), norm / float64(n)
}
