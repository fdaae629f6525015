package ops

import (
	"github.com/dmmd/dmmd/model/internal/gemm"
	"github.com/dmmd/dmmd/model/internal/parallel"
)

// convGeom is the geometry of one 2-D convolution over a batch (NCHW input, OIHW weights, square stride and padding).
type convGeom struct {
	B, Cin, H, W    int // input
	Cout, KH, KW    int // weights
	Stride, Pad     int
	Ho, Wo          int // output
	K, N            int // im2col matrix: K = Cin*KH*KW rows, N = B*Ho*Wo columns
	inSize, outSize int // elements of one input / output sample
}

func newConvGeom(b, cin, h, w, cout, kh, kw, stride, pad int) convGeom {
	g := convGeom{B: b, Cin: cin, H: h, W: w, Cout: cout, KH: kh, KW: kw, Stride: stride, Pad: pad}
	g.Ho = (h+2*pad-kh)/stride + 1
	g.Wo = (w+2*pad-kw)/stride + 1
	g.K = cin * kh * kw
	g.N = b * g.Ho * g.Wo
	g.inSize = cin * h * w
	g.outSize = cout * g.Ho * g.Wo
	return g
}

// validRange returns the output columns [lo, hi) whose input column ow*stride - pad + j lies inside [0, w).
func validRange(g *convGeom, j, w int) (lo, hi int) {
	// ow*S >= pad - j  and  ow*S <= w - 1 + pad - j
	lo = 0
	if d := g.Pad - j; d > 0 {
		lo = (d + g.Stride - 1) / g.Stride
	}
	top := w - 1 + g.Pad - j
	if top < 0 {
		return 0, 0
	}
	hi = min(top/g.Stride+1, g.Wo)
	return min(lo, hi), hi
}

// im2col writes the K x N patch matrix of x: row (ci*KH+i)*KW+j, column (b*Ho+oh)*Wo+ow holds
// x[b, ci, oh*Stride-Pad+i, ow*Stride-Pad+j], or 0 outside the image.
func im2col[T num](g *convGeom, x, cols []T) {
	hw := g.Ho * g.Wo
	parallel.For(g.K, g.N, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ci := r / (g.KH * g.KW)
			i := r / g.KW % g.KH
			j := r % g.KW
			owLo, owHi := validRange(g, j, g.W)
			off := j - g.Pad
			row := cols[r*g.N : (r+1)*g.N]
			for b := 0; b < g.B; b++ {
				plane := x[(b*g.Cin+ci)*g.H*g.W : (b*g.Cin+ci+1)*g.H*g.W]
				out := row[b*hw : (b+1)*hw]
				for oh := 0; oh < g.Ho; oh++ {
					dst := out[oh*g.Wo : (oh+1)*g.Wo]
					ih := oh*g.Stride - g.Pad + i
					if ih < 0 || ih >= g.H {
						clear(dst)
						continue
					}
					src := plane[ih*g.W : (ih+1)*g.W]
					clear(dst[:owLo])
					clear(dst[owHi:])
					if g.Stride == 1 {
						copy(dst[owLo:owHi], src[owLo+off:owHi+off])
						continue
					}
					in := owLo*g.Stride + off
					for ow := owLo; ow < owHi; ow++ {
						dst[ow] = src[in]
						in += g.Stride
					}
				}
			}
		}
	})
}

// col2im is the adjoint of im2col: dx[b, ci, ih, iw] = sum of the dcols entries im2col would have read from there.
// dx is overwritten. With tab (gemm.GatherTable of g's geometry) it scatters through the table, in the same order
// of summation.
func col2im[T num](g *convGeom, dcols, dx []T, tab []int32) {
	hw := g.Ho * g.Wo
	kk := g.KH * g.KW
	if len(tab) == kk*hw {
		parallel.For(g.Cin, kk*g.N, func(lo, hi int) {
			for ci := lo; ci < hi; ci++ {
				for b := 0; b < g.B; b++ {
					clear(dx[(b*g.Cin+ci)*g.H*g.W : (b*g.Cin+ci+1)*g.H*g.W])
				}
				for ij := 0; ij < kk; ij++ {
					t := tab[ij*hw : (ij+1)*hw]
					row := dcols[(ci*kk+ij)*g.N : (ci*kk+ij+1)*g.N]
					for b := 0; b < g.B; b++ {
						plane := dx[(b*g.Cin+ci)*g.H*g.W : (b*g.Cin+ci+1)*g.H*g.W]
						in := row[b*hw : (b+1)*hw]
						for q, o := range t {
							if o >= 0 {
								plane[o] += in[q]
							}
						}
					}
				}
			}
		})
		return
	}
	// Parallel over input channels: rows of channel ci only touch planes of channel ci.
	parallel.For(g.Cin, kk*g.N, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for b := 0; b < g.B; b++ {
				clear(dx[(b*g.Cin+ci)*g.H*g.W : (b*g.Cin+ci+1)*g.H*g.W])
			}
			for r := ci * kk; r < (ci+1)*kk; r++ {
				i := r / g.KW % g.KH
				j := r % g.KW
				owLo, owHi := validRange(g, j, g.W)
				off := j - g.Pad
				row := dcols[r*g.N : (r+1)*g.N]
				for b := 0; b < g.B; b++ {
					plane := dx[(b*g.Cin+ci)*g.H*g.W : (b*g.Cin+ci+1)*g.H*g.W]
					in := row[b*hw : (b+1)*hw]
					for oh := 0; oh < g.Ho; oh++ {
						ih := oh*g.Stride - g.Pad + i
						if ih < 0 || ih >= g.H {
							continue
						}
						dst := plane[ih*g.W : (ih+1)*g.W]
						src := in[oh*g.Wo+owLo : oh*g.Wo+owHi]
						iw := owLo*g.Stride + off
						for _, v := range src {
							dst[iw] += v
							iw += g.Stride
						}
					}
				}
			}
		}
	})
}

// toCBN copies a (B, C, HW) tensor into (C, B*HW) order.
func toCBN[T num](src, dst []T, b, c, hw int) {
	parallel.For(c, b*hw, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for bi := 0; bi < b; bi++ {
				copy(dst[(ci*b+bi)*hw:(ci*b+bi+1)*hw], src[(bi*c+ci)*hw:(bi*c+ci+1)*hw])
			}
		}
	})
}

// fromCBN copies a (C, B*HW) matrix into (B, C, HW) order.
func fromCBN[T num](src, dst []T, b, c, hw int) {
	parallel.For(c, b*hw, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for bi := 0; bi < b; bi++ {
				copy(dst[(bi*c+ci)*hw:(bi*c+ci+1)*hw], src[(ci*b+bi)*hw:(ci*b+bi+1)*hw])
			}
		}
	})
}

// convScratch holds the reusable buffers of one convolution node.
type convScratch[T num] struct {
	cols, mat []T
	pt        gemm.Patches // the float32 input's patch matrix, read while packing (see gemm.Patches32)
	tab       []int32      // col2im's gather table (gemm.GatherTable) for the geometry tabFor
	tabFor    convGeom
}

// gatherTable returns col2im's gather table for g, built once per geometry, or nil where the runs are long.
func (s *convScratch[T]) gatherTable(g *convGeom) []int32 {
	if !gemm.UseGatherTable(g.Stride, g.Wo) {
		return nil
	}
	if len(s.tab) == 0 || s.tabFor != *g {
		s.tab = gemm.GatherTable(s.tab, g.H, g.W, g.KH, g.KW, g.Stride, g.Pad, g.Ho, g.Wo)
		s.tabFor = *g
	}
	return s.tab
}

// patchesOf describes x's patch matrix in s.pt, for the float32 kernels.
func patchesOf(g *convGeom, x []float32, pt *gemm.Patches) *gemm.Patches {
	// Field by field, so the gather table built for this node's geometry (gemm.Patches.Prepare) is kept.
	pt.X, pt.B, pt.C, pt.H, pt.W = x, g.B, g.Cin, g.H, g.W
	pt.KH, pt.KW, pt.Stride, pt.Pad, pt.Ho, pt.Wo = g.KH, g.KW, g.Stride, g.Pad, g.Ho, g.Wo
	return pt
}

func grow[T num](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// patches returns the im2col matrix of x: the one a sibling op published in this run (see ColsShare), or else
// computed into s.cols and published.
func patches[T num](g *convGeom, x []T, s *convScratch[T], sh *colsShare) []T {
	if c, ok := sh.lookup(g, x); ok {
		return c.([]T)
	}
	s.cols = grow(s.cols, g.K*g.N)
	im2col(g, x, s.cols)
	sh.publish(g, x, s.cols)
	return s.cols
}

// convForward computes y = Conv(x, w) (no bias) into y (B, Cout, Ho, Wo).
func convForward[T num](g *convGeom, x, w, y []T, s *convScratch[T], sh *colsShare) {
	if x32, ok := any(x).([]float32); ok && gemm.Patches32(false, false, g.Cout, g.N, g.K, any(w).([]float32), g.K, 0,
		patchesOf(g, x32, &s.pt), 0, any(y).([]float32), 0, g.Ho*g.Wo) {
		return // y written in place, the patches read while packing
	}
	cols := patches(g, x, s, sh)
	if c32, ok := any(cols).([]float32); ok && gemm.HW32(false, false, g.Cout, g.N, g.K, any(w).([]float32), g.K, 0,
		c32, g.N, 0, 0, any(y).([]float32), 0, g.Ho*g.Wo) {
		return // y written in place, (B, Cout, Ho, Wo)
	}
	s.mat = grow(s.mat, g.Cout*g.N)
	gemm.Do(false, false, g.Cout, g.N, g.K, w, g.K, cols, g.N, 0, s.mat, g.N)
	fromCBN(s.mat, y, g.B, g.Cout, g.Ho*g.Wo)
}

// convInputGrad computes dx = J_x^T dy (the transposed convolution of dy with w) into dx (B, Cin, H, W).
func convInputGrad[T num](g *convGeom, dy, w, dx []T, s *convScratch[T]) {
	s.cols = grow(s.cols, g.K*g.N)
	if d32, ok := any(dy).([]float32); !ok || !gemm.HW32(true, false, g.K, g.N, g.Cout, any(w).([]float32), g.K, 0,
		d32, 0, g.Ho*g.Wo, 0, any(s.cols).([]float32), g.N, 0) { // dy read in place
		s.mat = grow(s.mat, g.Cout*g.N)
		toCBN(dy, s.mat, g.B, g.Cout, g.Ho*g.Wo)
		gemm.Do(true, false, g.K, g.N, g.Cout, w, g.K, s.mat, g.N, 0, s.cols, g.N)
	}
	col2im(g, s.cols, dx, s.gatherTable(g))
}

// convWeightGrad computes dw = J_w^T dy = sum over the batch of dy (x) patches into dw (Cout, Cin, KH, KW).
func convWeightGrad[T num](g *convGeom, x, dy, dw []T, s *convScratch[T], sh *colsShare) {
	if x32, ok := any(x).([]float32); ok && gemm.Patches32(false, true, g.Cout, g.K, g.N, any(dy).([]float32), 0, g.Ho*g.Wo,
		patchesOf(g, x32, &s.pt), 0, any(dw).([]float32), g.K, 0) {
		return // dy read in place, the patches read while packing
	}
	cols := patches(g, x, s, sh)
	if d32, ok := any(dy).([]float32); ok && gemm.HW32(false, true, g.Cout, g.K, g.N, d32, 0, g.Ho*g.Wo,
		any(cols).([]float32), g.N, 0, 0, any(dw).([]float32), g.K, 0) {
		return // dy read in place
	}
	s.mat = grow(s.mat, g.Cout*g.N)
	toCBN(dy, s.mat, g.B, g.Cout, g.Ho*g.Wo)
	gemm.Do(false, true, g.Cout, g.K, g.N, s.mat, g.N, cols, g.N, 0, dw, g.K)
}
