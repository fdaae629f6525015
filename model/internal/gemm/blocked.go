package gemm

import (
	"sync"

	"github.com/dmmd/dmmd/model/internal/parallel"
)

// A blocked single-precision matrix product for the pure-Go build, after the BLIS design: op(B) is packed into
// column panels of NR, op(A) into row panels of MR, and an MR x NR micro-kernel (Go assembly: 8x32 with AVX-512,
// 6x16 with AVX2/FMA, kernel_amd64.s) runs over each pair of panels. Whole tiles are accumulated in C by the
// kernel itself; the ragged edges go through a small tile buffer. Columns of C are split between
// parallel.Workers() workers. It is several times faster than gonum's pure-Go Sgemm on the shapes of this network (see
// BenchmarkGEMM) and is used when the CPU has AVX2 and FMA and the BLAS is gonum's; the openblas build and other
// CPUs use the configured BLAS.
const (
	gemmKC = 256  // depth of a packed block
	gemmMC = 120  // rows of a packed block of op(A), rounded down to a multiple of MR
	gemmNC = 1024 // columns of a packed block of op(B) (a multiple of every NR)
	maxMR  = 8
	maxNR  = 32
)

// microKernel is one register-blocked kernel: run computes the mr x nr tile
// c[i*ldc+j] = sum_{p<k} a[p*mr+i] b[p*nr+j] (added to c's values when load is set) from packed panels, k >= 1.
type microKernel struct {
	name   string
	mr, nr int
	run    func(k int, a, b, c []float32, ldc int, load bool)
}

// useKernelGEMM is true when float32 products go through sgemmBlocked.
var useKernelGEMM = haveKernel

type gemmBuffers struct {
	a, b []float32
	tile [maxMR * maxNR]float32
}

var gemmPool = sync.Pool{New: func() any {
	return &gemmBuffers{a: make([]float32, (gemmMC+maxMR)*gemmKC), b: make([]float32, gemmKC*gemmNC)}
}}

// batchLayout says which operands of a product are stored in the batch layout of a convolution's activations
// rather than row-major: a logical matrix X (rows x cols) whose columns are (sample, position) pairs,
// col = s*HW + q, stored as (samples, rows, HW): X[r][col] at x[(s*rows+r)*HW + q]. 0 means row-major (with the
// usual leading dimension). Only untransposed operands take a batch layout.
type batchLayout struct {
	a, b, c int
	patches *Patches // B (or, transposed, op(B)) is this patch matrix, packed on the fly
}

// sgemmBlocked computes c = op(a) op(b) + beta c (row-major) with the fastest micro-kernel of this CPU.
func sgemmBlocked(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlockedWith(bestKernel, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func sgemmBlockedWith(kern microKernel, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmLayout(kern, batchLayout{}, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func sgemmLayout(kern microKernel, lay batchLayout, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if lay.c > 0 {
			for i := range c[:m*n] {
				c[i] *= beta
			}
			return
		}
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	// Split the columns between workers, in whole panels, when there is enough work.
	workers := parallel.Workers()
	panels := (n + kern.nr - 1) / kern.nr
	if workers > panels {
		workers = panels
	}
	if m*n*k < 1<<18 {
		workers = 1
	}
	if workers <= 1 {
		sgemmColumns(kern, lay, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, 0, n)
		return
	}
	per := (panels + workers - 1) / workers * kern.nr
	var wg sync.WaitGroup
	for j0 := 0; j0 < n; j0 += per {
		j1 := min(j0+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sgemmColumns(kern, lay, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, j0, j1)
		}()
	}
	wg.Wait()
}

// sgemmColumns computes columns [j0, j1) of c.
func sgemmColumns(kern microKernel, lay batchLayout, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, j0, j1 int) {
	if beta != 0 && beta != 1 {
		for i := 0; i < m; i++ {
			for j := j0; j < j1; j++ {
				c[lay.cIndex(m, ldc, i, j)] *= beta
			}
		}
	}
	mr, nr := kern.mr, kern.nr
	mc := gemmMC / mr * mr
	buf := gemmPool.Get().(*gemmBuffers)
	defer gemmPool.Put(buf)
	tile := buf.tile[:mr*nr]
	for jc := j0; jc < j1; jc += gemmNC {
		nb := min(gemmNC, j1-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kb := min(gemmKC, k-pc)
			if lay.patches != nil {
				packBPatches(nr, tB, lay.patches, pc, kb, jc, nb, buf.b)
			} else if lay.b > 0 {
				packBBatch(nr, lay.b, k, b, pc, kb, jc, nb, buf.b)
			} else {
				packB(nr, tB, b, ldb, pc, kb, jc, nb, buf.b)
			}
			load := pc > 0 || beta != 0 // add to C rather than overwrite it
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				if lay.a > 0 {
					packABatch(mr, lay.a, m, a, ic, mb, pc, kb, buf.a)
				} else {
					packA(mr, tA, a, lda, ic, mb, pc, kb, buf.a)
				}
				for jr := 0; jr < nb; jr += nr {
					bp := buf.b[jr*kb : (jr+nr)*kb]
					cols := min(nr, nb-jr)
					for ir := 0; ir < mb; ir += mr {
						ap := buf.a[ir*kb : (ir+mr)*kb]
						rows := min(mr, mb-ir)
						at, ld := (ic+ir)*ldc+jc+jr, ldc
						whole := rows == mr && cols == nr
						if lay.c > 0 {
							// The tile is one block of C when its columns lie in one sample.
							j := jc + jr
							q := j % lay.c
							at, ld = ((j/lay.c)*m+ic+ir)*lay.c+q, lay.c
							whole = whole && q+nr <= lay.c
						}
						if whole {
							kern.run(kb, ap, bp, c[at:], ld, load)
							continue
						}
						// A ragged tile (or one across samples) goes through the tile buffer, starting from C's
						// values exactly as a whole tile does, so every element of C is summed in the same order
						// whatever tile it falls in: results do not depend on the matrix size, the split between
						// workers or the batch layout.
						if lay.c > 0 {
							edgeBatch(kern, kb, ap, bp, tile, c, m, lay.c, ic+ir, rows, jc+jr, cols, load)
							continue
						}
						if load {
							clear(tile)
							for r := 0; r < rows; r++ {
								copy(tile[r*nr:r*nr+cols], c[at+r*ldc:at+r*ldc+cols])
							}
						}
						kern.run(kb, ap, bp, tile, nr, load)
						for r := 0; r < rows; r++ {
							copy(c[at+r*ldc:at+r*ldc+cols], tile[r*nr:r*nr+cols])
						}
					}
				}
			}
		}
	}
}

// edgeBatch computes a ragged tile of a C in the batch layout (hw positions per sample) through the tile buffer:
// rows [i0, i0+rows), columns [j0, j0+cols), copied in runs that stay within one sample.
func edgeBatch(kern microKernel, kb int, ap, bp, tile, c []float32, m, hw, i0, rows, j0, cols int, load bool) {
	if load {
		clear(tile)
		copyBatchTile(tile, c, kern.nr, m, hw, i0, rows, j0, cols, false)
	}
	kern.run(kb, ap, bp, tile, kern.nr, load)
	copyBatchTile(tile, c, kern.nr, m, hw, i0, rows, j0, cols, true)
}

// copyBatchTile copies between a tile buffer (row stride nr) and rows [i0, i0+rows), columns [j0, j0+cols) of a
// batch-layout C, in runs that stay within one sample: into C when toC is set, into the tile otherwise.
func copyBatchTile(tile, c []float32, nr, m, hw, i0, rows, j0, cols int, toC bool) {
	for o := 0; o < cols; {
		j := j0 + o
		s, q := j/hw, j%hw
		run := min(cols-o, hw-q)
		for r := 0; r < rows; r++ {
			at := (s*m+i0+r)*hw + q
			t, x := tile[r*nr+o:r*nr+o+run], c[at:at+run]
			if toC {
				copy(x, t)
			} else {
				copy(t, x)
			}
		}
		o += run
	}
}

// cIndex is where C[i][j] is stored.
func (l batchLayout) cIndex(m, ldc, i, j int) int {
	if l.c > 0 {
		return ((j/l.c)*m+i)*l.c + j%l.c
	}
	return i*ldc + j
}

// packABatch is packA for an A (m x k) in the batch layout with hw positions per sample.
func packABatch(mr, hw, m int, a []float32, ic, mb, pc, kb int, dst []float32) {
	for q := 0; q < mb; q += mr {
		panel := dst[q*kb : (q+mr)*kb]
		rows := min(mr, mb-q)
		for r := 0; r < mr; r++ {
			if r >= rows {
				for p := 0; p < kb; p++ {
					panel[p*mr+r] = 0
				}
				continue
			}
			i := ic + q + r
			for p := 0; p < kb; {
				col := pc + p
				s, pos := col/hw, col%hw
				run := min(kb-p, hw-pos)
				src := a[(s*m+i)*hw+pos : (s*m+i)*hw+pos+run]
				for t, v := range src {
					panel[(p+t)*mr+r] = v
				}
				p += run
			}
		}
	}
}

// packBBatch is packB for a B (k x n) in the batch layout with hw positions per sample.
func packBBatch(nr, hw, k int, b []float32, pc, kb, jc, nb int, dst []float32) {
	for q := 0; q < nb; q += nr {
		panel := dst[q*kb : (q+nr)*kb]
		cols := min(nr, nb-q)
		for p := 0; p < kb; p++ {
			out := panel[p*nr : (p+1)*nr]
			for f := 0; f < cols; {
				col := jc + q + f
				s, pos := col/hw, col%hw
				run := min(cols-f, hw-pos)
				base := (s*k+pc+p)*hw + pos
				copy(out[f:f+run], b[base:base+run])
				f += run
			}
			clear(out[cols:])
		}
	}
}

// packA writes rows [ic, ic+mb) and depth [pc, pc+kb) of op(a) as row panels of mr: panel q holds, for each
// p, the mr values op(a)[ic+q*mr+r][pc+p], zero past the last row.
func packA(mr int, tA bool, a []float32, lda, ic, mb, pc, kb int, dst []float32) {
	for q := 0; q < mb; q += mr {
		panel := dst[q*kb : (q+mr)*kb]
		rows := min(mr, mb-q)
		if tA {
			// op(a)[i][p] = a[p][i]: for each p the panel's rows are contiguous in a.
			for p := 0; p < kb; p++ {
				out := panel[p*mr : (p+1)*mr]
				src := a[(pc+p)*lda+ic+q : (pc+p)*lda+ic+q+rows]
				copy(out, src)
				clear(out[rows:])
			}
			continue
		}
		for r := 0; r < mr; r++ {
			if r >= rows {
				for p := 0; p < kb; p++ {
					panel[p*mr+r] = 0
				}
				continue
			}
			i := ic + q + r
			src := a[i*lda+pc : i*lda+pc+kb]
			for p, v := range src {
				panel[p*mr+r] = v
			}
		}
	}
}

// packB writes depth [pc, pc+kb) and columns [jc, jc+nb) of op(b) as column panels of nr: panel q holds, for
// each p, the nr values op(b)[pc+p][jc+q*nr+j], zero past the last column.
func packB(nr int, tB bool, b []float32, ldb, pc, kb, jc, nb int, dst []float32) {
	for q := 0; q < nb; q += nr {
		panel := dst[q*kb : (q+nr)*kb]
		cols := min(nr, nb-q)
		if tB {
			// op(b)[p][j] = b[j][p]: read each of the panel's columns of op(b) as a contiguous row of b.
			for j := 0; j < cols; j++ {
				src := b[(jc+q+j)*ldb+pc : (jc+q+j)*ldb+pc+kb]
				for p, v := range src {
					panel[p*nr+j] = v
				}
			}
			zeroPanelTail(panel, kb, nr, cols)
			continue
		}
		for p := 0; p < kb; p++ {
			out := panel[p*nr : (p+1)*nr]
			copy(out[:cols], b[(pc+p)*ldb+jc+q:(pc+p)*ldb+jc+q+cols])
			clear(out[cols:])
		}
	}
}

// goKernel is a micro-kernel of the given shape in plain Go (the reference for tests, and the fallback).
func goKernel(mr, nr int) microKernel {
	return microKernel{name: "go", mr: mr, nr: nr, run: func(k int, a, b, c []float32, ldc int, load bool) {
		var acc [maxMR * maxNR]float32
		for p := 0; p < k; p++ {
			bp := b[p*nr : (p+1)*nr]
			for r := 0; r < mr; r++ {
				av := a[p*mr+r]
				row := acc[r*nr : (r+1)*nr]
				for j, bv := range bp {
					row[j] += av * bv
				}
			}
		}
		for r := 0; r < mr; r++ {
			dst := c[r*ldc : r*ldc+nr]
			if load {
				for j, v := range acc[r*nr : (r+1)*nr] {
					dst[j] += v
				}
			} else {
				copy(dst, acc[r*nr:(r+1)*nr])
			}
		}
	}}
}

// zeroPanelTail zeroes columns cols..nr-1 of each of the kb rows of a packed B panel (row stride nr), so that a
// ragged last panel multiplies as zeros.
func zeroPanelTail(panel []float32, kb, nr, cols int) {
	if cols >= nr {
		return
	}
	for p := 0; p < kb; p++ {
		clear(panel[p*nr+cols : (p+1)*nr])
	}
}
