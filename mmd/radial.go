package mmd

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// radialKernel is implemented by kernels of the form k(x, y) = g(||x-y||^2).
type radialKernel interface {
	// radial returns g and its derivative g', or false when the kernel
	// (with its current parameters) is not radial.
	radial() (func(r2 float64) (g, dg float64), bool)
}

func (k Gaussian) radial() (func(float64) (float64, float64), bool) {
	c := 1 / (2 * k.Sigma * k.Sigma)
	return func(r2 float64) (float64, float64) {
		g := math.Exp(-c * r2)
		return g, -c * g
	}, true
}

func (k IMQ) radial() (func(float64) (float64, float64), bool) {
	c2 := k.C * k.C
	return func(r2 float64) (float64, float64) {
		b := math.Pow(c2+r2, k.Beta-1)
		return b * (c2 + r2), k.Beta * b
	}, true
}

func (k MixedRQ) radial() (func(float64) (float64, float64), bool) {
	if k.Linear {
		return nil, false
	}
	alphas := k.alphas()
	return func(r2 float64) (float64, float64) {
		var g, dg float64
		for _, a := range alphas {
			b := math.Pow(1+r2/(2*a), -a-1)
			g += b * (1 + r2/(2*a))
			dg -= b / 2
		}
		return g, dg
	}, true
}

// gemmMinDim is the smallest dimension from which witness gradients of a
// radial kernel are computed through matrix products.
const gemmMinDim = 8

// gemmRows is the number of evaluation points per matrix-product block.
const gemmRows = 64

// gradsRadial writes grad f(z_i) for every row of z into dst using
//
//	grad f(z) = sum_j a_j 2 g'(||z - p_j||^2) (z - p_j)
//	          = z sum_j W_j - sum_j W_j p_j,  W_j = 2 a_j g'(r_j^2),
//
// over the points p_j of both samples (a_j = 1/M for targets, -1/N for
// particles), with the squared distances ||z||^2 + ||p||^2 - 2 z.p and the
// final sum computed by matrix products, block by block of gemmRows
// evaluation points. Blocks do not depend on the number of cores, so neither
// do the results.
//
// Both the expansion of the distances and z sum_j W_j - sum_j W_j p_j cancel
// catastrophically far from the origin, so z and the p_j are first centred
// on the mean c of the p_j: (z - c) - (p_j - c) = z - p_j, and the formula
// holds as it is for the centred points.
func (w *Witness) gradsRadial(dst, z Points, prof func(float64) (float64, float64)) {
	m, n, d := w.target.Len(), w.current.Len(), z.Dim
	np := m + n
	c := centroid(w.target, w.current)
	pts := make([]float64, 0, np*d)
	pts = append(append(pts, centred(w.target, c).Data...), centred(w.current, c).Data...)
	z = centred(z, c)
	norms := make([]float64, np)
	coef := make([]float64, np)
	for j := range np {
		row := pts[j*d : (j+1)*d]
		norms[j] = dot(row, row)
		if j < m {
			coef[j] = 2 / float64(m)
		} else {
			coef[j] = -2 / float64(n)
		}
	}
	pm := blas64.General{Rows: np, Cols: d, Stride: d, Data: pts}
	parallelFor(z.Len(), gemmRows, func(lo, hi int) {
		rows := hi - lo
		buf := make([]float64, rows*np)
		bm := blas64.General{Rows: rows, Cols: np, Stride: np, Data: buf}
		zm := blas64.General{Rows: rows, Cols: d, Stride: d, Data: z.Data[lo*d : hi*d]}
		dm := blas64.General{Rows: rows, Cols: d, Stride: d, Data: dst.Data[lo*d : hi*d]}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, zm, pm, 0, bm)
		for i := range rows {
			zi := z.Data[(lo+i)*d : (lo+i+1)*d]
			zn := dot(zi, zi)
			row := buf[i*np : (i+1)*np]
			var s float64
			for j, zp := range row {
				_, dg := prof(max(0, zn+norms[j]-2*zp))
				v := coef[j] * dg
				row[j] = v
				s += v
			}
			out := dm.Data[i*d : (i+1)*d]
			for k, v := range zi {
				out[k] = s * v
			}
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, -1, bm, pm, 1, dm)
	})
}
