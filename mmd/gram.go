package mmd

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gramKernel is implemented by kernels that are a function of x.y, ||x||^2
// and ||y||^2 in R^d: their sums over many pairs can be computed from a
// matrix product of the two samples.
type gramKernel interface {
	fromDot(xy, xx, yy float64, d int) float64
}

func (k Gaussian) fromDot(xy, xx, yy float64, _ int) float64 {
	return math.Exp(-max(0, xx+yy-2*xy) / (2 * k.Sigma * k.Sigma))
}

func (k IMQ) fromDot(xy, xx, yy float64, _ int) float64 {
	return math.Pow(k.C*k.C+max(0, xx+yy-2*xy), k.Beta)
}

func (k MixedRQ) fromDot(xy, xx, yy float64, _ int) float64 {
	r2 := max(0, xx+yy-2*xy)
	var v float64
	for _, a := range k.alphas() {
		v += math.Pow(1+r2/(2*a), -a)
	}
	if k.Linear {
		v += xy
	}
	return v
}

func (Linear) fromDot(xy, _, _ float64, _ int) float64 { return xy }

func (k Polynomial) fromDot(xy, _, _ float64, d int) float64 {
	return powInt(k.gamma(d)*xy+k.Coef0, k.Degree)
}

// gramCols bounds the columns of one matrix-product block, and so its memory.
const gramCols = 4096

func sqNorms(p Points) []float64 {
	out := make([]float64, p.Len())
	for i := range out {
		r := p.Row(i)
		out[i] = dot(r, r)
	}
	return out
}

// pairSumGram returns the sum of k over the pairs (x_i, y_j) with
// j > i + offset when upper is set (offset is where y starts within x), or
// over all pairs otherwise, from blocks of gemmRows rows of x times at most
// gramCols rows of y. The block structure, and so the result, does not
// depend on the number of cores.
func pairSumGram(k gramKernel, x, y Points, upper bool) float64 {
	d := x.Dim
	nx, ny := sqNorms(x), sqNorms(y)
	n, m := x.Len(), y.Len()
	return blockSum(n, gemmRows, func(lo, hi int) float64 {
		rows := hi - lo
		xm := blas64.General{Rows: rows, Cols: d, Stride: d, Data: x.Data[lo*d : hi*d]}
		buf := make([]float64, rows*min(m, gramCols))
		var s float64
		c0 := 0
		if upper {
			c0 = lo + 1
		}
		for ; c0 < m; c0 += gramCols {
			c1 := min(m, c0+gramCols)
			cols := c1 - c0
			ym := blas64.General{Rows: cols, Cols: d, Stride: d, Data: y.Data[c0*d : c1*d]}
			g := blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: buf[:rows*cols]}
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, xm, ym, 0, g)
			for i := range rows {
				row := g.Data[i*cols : (i+1)*cols]
				j0 := 0
				if upper {
					j0 = max(0, lo+i+1-c0)
				}
				for j := j0; j < cols; j++ {
					s += k.fromDot(row[j], nx[lo+i], ny[c0+j], d)
				}
			}
		}
		return s
	})
}
