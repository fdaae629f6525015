package gemm

// Patches is the im2col matrix of a convolution's input, read on the fly while packing instead of materialised:
// a K x N matrix with K = C*KH*KW rows, N = B*Ho*Wo columns, whose row (ci*KH+i)*KW+j, column (b*Ho+oh)*Wo+ow holds
// X[b, ci, oh*Stride-Pad+i, ow*Stride-Pad+j] (X is (B, C, H, W), row-major), or 0 outside the image.
type Patches struct {
	X                   []float32
	B, C, H, W          int
	KH, KW, Stride, Pad int
	Ho, Wo              int
}

// Rows and Cols are the matrix's K and N.
func (p *Patches) Rows() int { return p.C * p.KH * p.KW }
func (p *Patches) Cols() int { return p.B * p.Ho * p.Wo }

// row writes columns [c0, c0+len(dst)) of row r into dst.
func (p *Patches) row(r, c0 int, dst []float32) {
	kk := p.KH * p.KW
	ci, i, j := r/kk, r/p.KW%p.KH, r%p.KW
	// Output columns whose input column ow*Stride-Pad+j lies in [0, W): [lo, hi).
	lo := 0
	if d := p.Pad - j; d > 0 {
		lo = (d + p.Stride - 1) / p.Stride
	}
	hi := 0
	if top := p.W - 1 + p.Pad - j; top >= 0 {
		hi = min(top/p.Stride+1, p.Wo)
	}
	lo = min(lo, hi)
	hw := p.Ho * p.Wo
	b, rem := c0/hw, c0%hw
	oh, ow := rem/p.Wo, rem%p.Wo
	plane := (b*p.C + ci) * p.H
	for len(dst) > 0 {
		run := min(len(dst), p.Wo-ow)
		seg := dst[:run]
		ih := oh*p.Stride - p.Pad + i
		if ih < 0 || ih >= p.H {
			clear(seg)
		} else {
			src := p.X[(plane+ih)*p.W : (plane+ih+1)*p.W]
			a, e := max(lo, ow), min(hi, ow+run) // valid outputs within this run
			if a >= e {
				clear(seg)
			} else {
				clear(seg[:a-ow])
				clear(seg[e-ow:])
				in := a*p.Stride - p.Pad + j
				if p.Stride == 1 {
					copy(seg[a-ow:e-ow], src[in:in+e-a])
				} else {
					for t := a - ow; t < e-ow; t++ {
						seg[t] = src[in]
						in += p.Stride
					}
				}
			}
		}
		dst = dst[run:]
		ow = 0
		if oh++; oh == p.Ho {
			oh = 0
			plane += p.C * p.H // the next sample, same channel
		}
	}
}

// packBPatches is packB for B = the patch matrix (K x N) or, with tB, its transpose (op(B) N x K).
func packBPatches(nr int, tB bool, pt *Patches, pc, kb, jc, nb int, dst []float32) {
	if tB {
		// op(B)[p][j] = patches[j][p]: row j of the patches over depth [pc, pc+kb), written down panel column j.
		var seg [gemmKC]float32
		s := seg[:kb]
		for q := 0; q < nb; q += nr {
			panel := dst[q*kb : (q+nr)*kb]
			cols := min(nr, nb-q)
			for j := 0; j < cols; j++ {
				pt.row(jc+q+j, pc, s)
				for p, v := range s {
					panel[p*nr+j] = v
				}
			}
			zeroPanelTail(panel, kb, nr, cols)
		}
		return
	}
	// B = the patches: each row over all nb columns at once (long runs), then dealt out to the panels.
	var line [gemmNC]float32
	l := line[:nb]
	for p := 0; p < kb; p++ {
		pt.row(pc+p, jc, l)
		for q := 0; q < nb; q += nr {
			cols := min(nr, nb-q)
			out := dst[q*kb+p*nr : q*kb+(p+1)*nr]
			copy(out, l[q:q+cols])
			clear(out[cols:])
		}
	}
}

// Patches32 is HW32 with B the patch matrix of a convolution input (op(B) its transpose with tB): the convolution
// y = W patches (C in the batch layout, cHW = Ho*Wo) and its weight gradient dW = dy patches^T (A = dy in the batch
// layout) without materialising the patches. It reports false, and does nothing, where this build has no
// micro-kernel (the caller then builds the patch matrix with im2col).
func Patches32(tA, tB bool, m, n, k int, a []float32, lda, aHW int, pt *Patches, beta float32, c []float32, ldc, cHW int) bool {
	if !useKernelGEMM || (tA && aHW > 0) {
		return false
	}
	sgemmLayout(bestKernel, batchLayout{a: aHW, c: cHW, patches: pt}, tA, tB, m, n, k, a, lda, nil, 0, beta, c, ldc)
	return true
}
