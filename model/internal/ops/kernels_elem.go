package ops

import (
	"math"

	"github.com/dmmd/dmmd/model/internal/parallel"
)

// sigmoid is 1/(1+exp(-x)), evaluated without overflow for either sign.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// sigBlock is how many sigmoids the float32 SiLU kernels compute at a time (sigmoids, into a stack buffer).
const sigBlock = 512

// withSigmoids runs body over x in parallel blocks of up to sigBlock values, each with s = sigmoid32 of its
// values (xs = x[b:b+len(xs)]); cost is the per-value cost of body for parallel.For.
func withSigmoids(x []float32, cost int, body func(b int, xs, s []float32)) {
	parallel.For(len(x), cost, func(lo, hi int) {
		var sb [sigBlock]float32
		for b := lo; b < hi; b += sigBlock {
			xs := x[b:min(b+sigBlock, hi)]
			s := sb[:len(xs)]
			sigmoids(xs, s)
			body(b, xs, s)
		}
	})
}

// SiLU and its first two derivatives, with s = sigmoid(x):
//
//	SiLU(x)   = x s
//	dsilu(x)  = s (1 + x (1 - s))           (the first derivative)
//	d2silu(x) = s (1 - s) (2 + x (1 - 2 s))  (the second derivative)
func siluKernel[T num](x, y []T) {
	if x32, ok := any(x).([]float32); ok {
		y32 := any(y).([]float32)
		withSigmoids(x32, 4, func(b int, xs, s []float32) {
			ys := y32[b : b+len(xs)]
			for i, v := range xs {
				ys[i] = v * s[i]
			}
		})
		return
	}
	parallel.For(len(x), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			y[i] = T(v * sigmoid(v))
		}
	})
}

// siluBackKernel writes out = g * dsilu(x).
func siluBackKernel[T num](g, x, out []T) {
	if x32, ok := any(x).([]float32); ok {
		g32, o32 := any(g).([]float32), any(out).([]float32)
		withSigmoids(x32, 4, func(b int, xs, ss []float32) {
			gs, os := g32[b:b+len(xs)], o32[b:b+len(xs)]
			for i, v := range xs {
				s := ss[i]
				os[i] = gs[i] * s * (1 + v*(1-s))
			}
		})
		return
	}
	parallel.For(len(x), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			s := sigmoid(v)
			out[i] = T(float64(g[i]) * s * (1 + v*(1-s)))
		}
	})
}

// siluBack2Kernel writes out = a * g * d2silu(x), with d2silu the second derivative of SiLU.
func siluBack2Kernel[T num](a, g, x, out []T) {
	if x32, ok := any(x).([]float32); ok {
		a32, g32, o32 := any(a).([]float32), any(g).([]float32), any(out).([]float32)
		withSigmoids(x32, 5, func(b int, xs, ss []float32) {
			as, gs, os := a32[b:b+len(xs)], g32[b:b+len(xs)], o32[b:b+len(xs)]
			for i, v := range xs {
				s := ss[i]
				os[i] = as[i] * gs[i] * s * (1 - s) * (2 + v*(1-2*s))
			}
		})
		return
	}
	parallel.For(len(x), 25, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			s := sigmoid(v)
			out[i] = T(float64(a[i]) * float64(g[i]) * s * (1 - s) * (2 + v*(1-2*s)))
		}
	})
}

// addBiasKernel writes y[b, c, r] = x[b, c, r] + sum_k biases[k][g_k, c] for x of shape (B, C, R), where bias k
// has groups[k] rows and row b reads its row g_k = b / (B/groups[k]).
func addBiasKernel[T num](x, y []T, biases [][]T, groups []int, b, c, r int) {
	parallel.For(b*c, r, func(lo, hi int) {
		for bc := lo; bc < hi; bc++ {
			bi, ch := bc/c, bc%c
			var add T
			for k, bias := range biases {
				add += bias[bi/(b/groups[k])*c+ch]
			}
			src, dst := x[bc*r:(bc+1)*r], y[bc*r:(bc+1)*r]
			for i, v := range src {
				dst[i] = v + add
			}
		}
	})
}

// sumBiasKernel writes out[gi, c] = sum over the rows b of group gi and over r of g[b, c, r], for g of shape
// (B, C, R) split into the given number of equal groups of rows (the gradient of a bias of that many rows).
// Sums are accumulated in float64.
func sumBiasKernel[T num](g, out []T, groups, b, c, r int) {
	per := b / groups
	parallel.For(groups*c, per*r, func(lo, hi int) {
		for gc := lo; gc < hi; gc++ {
			gi, ch := gc/c, gc%c
			var s float64
			for bi := gi * per; bi < (gi+1)*per; bi++ {
				for _, v := range g[(bi*c+ch)*r : (bi*c+ch+1)*r] {
					s += float64(v)
				}
			}
			out[gc] = T(s)
		}
	})
}

// hadamardKernel writes out = a * b elementwise.
func hadamardKernel[T num](a, b, out []T) {
	parallel.For(len(out), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = a[i] * b[i]
		}
	})
}

// sumRowsKernel writes out[gi, f] = sum of x[b, f] over the rows b of group gi, for x of shape (B, F) split into
// the given number of equal groups of consecutive rows (one group: the column sums). Accumulated in float64.
func sumRowsKernel[T num](x, out []T, groups, b, f int) {
	per := b / groups
	parallel.For(groups*f, per, func(lo, hi int) {
		for gj := lo; gj < hi; gj++ {
			gi, j := gj/f, gj%f
			var s float64
			for bi := gi * per; bi < (gi+1)*per; bi++ {
				s += float64(x[bi*f+j])
			}
			out[gj] = T(s)
		}
	})
}

// broadcastRowsKernel writes out[b, f] = v[b / (n/G), f] for b in [0, n): each of the G rows of v repeated n/G
// times (one row: repeated n times).
func broadcastRowsKernel[T num](v, out []T, groups, n int) {
	f := len(v) / groups
	per := n / groups
	for bi := 0; bi < n; bi++ {
		gi := bi / per
		copy(out[bi*f:(bi+1)*f], v[gi*f:(gi+1)*f])
	}
}

// spatialMeanKernel writes out[b, c] = mean over r of x[b, c, r] for x of shape (B, C, R).
func spatialMeanKernel[T num](x, out []T, bc, r int) {
	parallel.For(bc, r, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float64
			for _, v := range x[i*r : (i+1)*r] {
				s += float64(v)
			}
			out[i] = T(s / float64(r))
		}
	})
}

// spatialSpreadKernel writes out[b, c, r] = g[b, c] / R, the adjoint of spatialMeanKernel.
func spatialSpreadKernel[T num](g, out []T, bc, r int) {
	inv := 1 / float64(r)
	parallel.For(bc, r, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := T(float64(g[i]) * inv)
			dst := out[i*r : (i+1)*r]
			for k := range dst {
				dst[k] = v
			}
		}
	})
}
