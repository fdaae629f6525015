package mmd

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gramKernel is implemented by kernels that are a function of the squared
// distance r2 = ||x-y||^2 and the dot product x.y in R^d: their sums over many
// pairs can be computed from a matrix product of the two samples.
type gramKernel interface {
	// fromGram returns k(x, y) from r2 and xy. A kernel that does not use r2
	// (distance false) gets r2 = 0; one that does not use xy (dot false)
	// gets xy = 0.
	fromGram(r2, xy float64, d int) float64
	// uses reports which of r2 and xy fromGram reads.
	uses() (distance, dot bool)
}

func (k Gaussian) fromGram(r2, _ float64, _ int) float64 {
	return math.Exp(-r2 / (2 * k.Sigma * k.Sigma))
}
func (Gaussian) uses() (bool, bool) { return true, false }

func (k IMQ) fromGram(r2, _ float64, _ int) float64 { return math.Pow(k.C*k.C+r2, k.Beta) }
func (IMQ) uses() (bool, bool)                      { return true, false }

func (k MixedRQ) fromGram(r2, xy float64, _ int) float64 {
	var v float64
	for _, a := range k.alphas() {
		v += math.Pow(1+r2/(2*a), -a)
	}
	if k.Linear {
		v += xy
	}
	return v
}
func (k MixedRQ) uses() (bool, bool) { return true, k.Linear }

func (Linear) fromGram(_, xy float64, _ int) float64 { return xy }
func (Linear) uses() (bool, bool)                    { return false, true }

func (k Polynomial) fromGram(_, xy float64, d int) float64 {
	return powInt(k.gamma(d)*xy+k.Coef0, k.Degree)
}
func (Polynomial) uses() (bool, bool) { return false, true }

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

// centroid returns the mean of the points of all the sets, in float64 and
// index order.
func centroid(sets ...Points) []float64 {
	d := sets[0].Dim
	c := make([]float64, d)
	n := 0
	for _, p := range sets {
		for i := range p.Len() {
			addScaled(c, 1, p.Row(i))
		}
		n += p.Len()
	}
	for j := range c {
		c[j] /= float64(n)
	}
	return c
}

// centred returns a copy of p with c subtracted from every point.
func centred(p Points, c []float64) Points {
	out := Points{Data: make([]float64, len(p.Data)), Dim: p.Dim}
	for i := range p.Len() {
		src, dst := p.Row(i), out.Row(i)
		for j, v := range src {
			dst[j] = v - c[j]
		}
	}
	return out
}

// pairSumGram returns the sum of k over the pairs (x_i, y_j) with
// j > i + offset when upper is set (offset is where y starts within x), or
// over all pairs otherwise, from blocks of gemmRows rows of x times at most
// gramCols rows of y. The block structure, and so the result, does not
// depend on the number of cores.
//
// Squared distances come from ||x||^2 + ||y||^2 - 2 x.y, which cancels
// catastrophically when the data sit far from the origin (at a common offset
// of 1e8 nothing of ||x-y||^2 ~ 1 survives). So for kernels that read r2 both
// samples are first centred on their common mean, which leaves every
// distance unchanged; a kernel that also reads x.y gets it back as
// xc.yc + c.xc + c.yc + c.c.
func pairSumGram(k gramKernel, x, y Points, upper bool) float64 {
	d := x.Dim
	distance, useDot := k.uses()
	var ax, by []float64 // c.xc_i and c.yc_j, for x.y from centred data
	var cc float64
	if distance {
		var c []float64
		if upper {
			c = centroid(x)
		} else {
			c = centroid(x, y)
		}
		x = centred(x, c)
		if upper {
			y = x
		} else {
			y = centred(y, c)
		}
		if useDot {
			cc = dot(c, c)
			ax, by = make([]float64, x.Len()), make([]float64, y.Len())
			for i := range ax {
				ax[i] = dot(c, x.Row(i))
			}
			for j := range by {
				by[j] = dot(c, y.Row(j))
			}
		}
	}
	var nx, ny []float64
	if distance {
		nx, ny = sqNorms(x), sqNorms(y)
	}
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
					var r2, xy float64
					if distance {
						r2 = max(0, nx[lo+i]+ny[c0+j]-2*row[j])
						if useDot {
							xy = row[j] + ax[lo+i] + by[c0+j] + cc
						}
					} else {
						xy = row[j]
					}
					s += k.fromGram(r2, xy, d)
				}
			}
		}
		return s
	})
}
