package gemm

// Patches is the im2col matrix of a convolution's input, read on the fly while packing instead of materialised:
// a K x N matrix with K = C*KH*KW rows, N = B*Ho*Wo columns, whose row (ci*KH+i)*KW+j, column (b*Ho+oh)*Wo+ow holds
// X[b, ci, oh*Stride-Pad+i, ow*Stride-Pad+j] (X is (B, C, H, W), row-major), or 0 outside the image.
type Patches struct {
	X                   []float32
	B, C, H, W          int
	KH, KW, Stride, Pad int
	Ho, Wo              int

	// The gather table of Prepare: for kernel offset (i, j) and output position q = oh*Wo+ow of one image, the
	// input offset ih*W+iw within a plane, or -1 for padding; built for the geometry in tabFor.
	tab    []int32
	tabFor [8]int
}

// geometry is what the gather table depends on.
func (p *Patches) geometry() [8]int {
	return [8]int{p.H, p.W, p.KH, p.KW, p.Stride, p.Pad, p.Ho, p.Wo}
}

// Prepare builds the gather table row uses for short or strided rows (where the run-by-run copy spends its time
// on bookkeeping), or keeps the one built for the same geometry. Call it before packing in parallel: row only
// reads the table. A Patches that was never prepared reads its rows run by run.
func (p *Patches) Prepare() {
	if !UseGatherTable(p.Stride, p.Wo) {
		p.tab = p.tab[:0] // long contiguous runs: copy
		return
	}
	if g := p.geometry(); len(p.tab) > 0 && g == p.tabFor {
		return
	}
	p.tab = GatherTable(p.tab, p.H, p.W, p.KH, p.KW, p.Stride, p.Pad, p.Ho, p.Wo)
	p.tabFor = p.geometry()
}

// UseGatherTable reports whether a convolution with this stride and output width reads (and col2im writes) its
// patch rows faster through a GatherTable than run by run: when the runs are strided or short.
func UseGatherTable(stride, wo int) bool { return stride != 1 || wo < 16 }

// GatherTable returns, in tab's storage when it is large enough, the gather table of a KH x KW convolution of an
// H x W plane with this stride and padding to Ho x Wo: entry (i*KW+j)*Ho*Wo + oh*Wo+ow is the offset ih*W+iw of
// the input that kernel offset (i, j) reads at output (oh, ow), or -1 where it reads the padding.
func GatherTable(tab []int32, h, w, kh, kw, stride, pad, ho, wo int) []int32 {
	hw := ho * wo
	n := kh * kw * hw
	if cap(tab) < n {
		tab = make([]int32, n)
	}
	tab = tab[:n]
	for i := 0; i < kh; i++ {
		for j := 0; j < kw; j++ {
			t := tab[(i*kw+j)*hw : (i*kw+j+1)*hw]
			for oh := 0; oh < ho; oh++ {
				for ow := 0; ow < wo; ow++ {
					ih, iw := oh*stride-pad+i, ow*stride-pad+j
					v := int32(-1)
					if ih >= 0 && ih < h && iw >= 0 && iw < w {
						v = int32(ih*w + iw)
					}
					t[oh*wo+ow] = v
				}
			}
		}
	}
	return tab
}

// Rows and Cols are the matrix's K and N.
func (p *Patches) Rows() int { return p.C * p.KH * p.KW }
func (p *Patches) Cols() int { return p.B * p.Ho * p.Wo }

// row writes columns [c0, c0+len(dst)) of row r into dst.
func (p *Patches) row(r, c0 int, dst []float32) {
	kk := p.KH * p.KW
	if len(p.tab) > 0 && p.tabFor == p.geometry() {
		p.rowTable(r, c0, dst)
		return
	}
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

// rowTable is row through the gather table of Prepare.
func (p *Patches) rowTable(r, c0 int, dst []float32) {
	kk, hw := p.KH*p.KW, p.Ho*p.Wo
	ci := r / kk
	tab := p.tab[(r%kk)*hw : (r%kk+1)*hw]
	b, q := c0/hw, c0%hw
	plane := p.H * p.W
	step := p.C * plane
	base := (b*p.C + ci) * plane
	for len(dst) > 0 {
		t := tab[q:min(hw, q+len(dst))]
		x := p.X[base : base+plane]
		for k, o := range t {
			if o >= 0 {
				dst[k] = x[o]
			} else {
				dst[k] = 0
			}
		}
		dst = dst[len(t):]
		q, base = 0, base+step
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
	pt.Prepare()
	sgemmLayout(bestKernel, batchLayout{a: aHW, c: cHW, patches: pt}, tA, tB, m, n, k, a, lda, nil, 0, beta, c, ldc)
	return true
}
