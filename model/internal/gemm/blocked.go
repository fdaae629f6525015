package gemm

import (
	"runtime"
	"sync"
)

// A blocked single-precision matrix product for the pure-Go build, after the BLIS design: op(B) is packed into
// column panels of 16, op(A) into row panels of 6, and a 6x16 micro-kernel (AVX2/FMA assembly, gemm_amd64.s) runs
// over each pair of panels; the result is added into C in Go, which also handles the ragged edges. Columns of C are
// split between GOMAXPROCS workers. It is several times faster than gonum's pure-Go Sgemm on the shapes of this
// network (see BenchmarkGEMM) and is used when the CPU has AVX2 and FMA and the BLAS is gonum's; the openblas
// build and other CPUs use the configured BLAS.
const (
	gemmMR = 6    // rows of a micro-tile
	gemmNR = 16   // columns of a micro-tile
	gemmKC = 256  // depth of a packed block
	gemmMC = 120  // rows of a packed block of op(A) (a multiple of gemmMR)
	gemmNC = 1024 // columns of a packed block of op(B) (a multiple of gemmNR)
)

// useKernelGEMM is true when float32 products go through sgemmBlocked.
var useKernelGEMM = haveKernel

type gemmBuffers struct {
	a, b []float32
	tile [gemmMR * gemmNR]float32
}

var gemmPool = sync.Pool{New: func() any {
	return &gemmBuffers{a: make([]float32, gemmMC*gemmKC), b: make([]float32, gemmKC*gemmNC)}
}}

// sgemmBlocked computes c = op(a) op(b) + beta c (row-major) with the packed micro-kernel.
func sgemmBlocked(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlockedWith(kernel6x16, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// microKernel computes one packed 6x16 tile (kernel6x16 or, in tests, kernel6x16Go).
type microKernel func(k int, a, b, c []float32)

func sgemmBlockedWith(kern microKernel, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	// Split the columns between workers, in whole panels, when there is enough work.
	workers := runtime.GOMAXPROCS(0)
	panels := (n + gemmNR - 1) / gemmNR
	if workers > panels {
		workers = panels
	}
	if m*n*k < 1<<18 {
		workers = 1
	}
	if workers <= 1 {
		sgemmColumns(kern, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, 0, n)
		return
	}
	per := (panels + workers - 1) / workers * gemmNR
	var wg sync.WaitGroup
	for j0 := 0; j0 < n; j0 += per {
		j1 := min(j0+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sgemmColumns(kern, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, j0, j1)
		}()
	}
	wg.Wait()
}

// sgemmColumns computes columns [j0, j1) of c.
func sgemmColumns(kern microKernel, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, j0, j1 int) {
	buf := gemmPool.Get().(*gemmBuffers)
	defer gemmPool.Put(buf)
	for jc := j0; jc < j1; jc += gemmNC {
		nb := min(gemmNC, j1-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kb := min(gemmKC, k-pc)
			packB(tB, b, ldb, pc, kb, jc, nb, buf.b)
			first := pc == 0
			for ic := 0; ic < m; ic += gemmMC {
				mb := min(gemmMC, m-ic)
				packA(tA, a, lda, ic, mb, pc, kb, buf.a)
				for jr := 0; jr < nb; jr += gemmNR {
					bp := buf.b[jr*kb : (jr+gemmNR)*kb]
					cols := min(gemmNR, nb-jr)
					for ir := 0; ir < mb; ir += gemmMR {
						ap := buf.a[ir*kb : (ir+gemmMR)*kb]
						kern(kb, ap, bp, buf.tile[:])
						rows := min(gemmMR, mb-ir)
						for r := 0; r < rows; r++ {
							dst := c[(ic+ir+r)*ldc+jc+jr : (ic+ir+r)*ldc+jc+jr+cols]
							src := buf.tile[r*gemmNR : r*gemmNR+cols]
							switch {
							case !first:
								for j, v := range src {
									dst[j] += v
								}
							case beta == 0:
								copy(dst, src)
							default:
								for j, v := range src {
									dst[j] = beta*dst[j] + v
								}
							}
						}
					}
				}
			}
		}
	}
}

// packA writes rows [ic, ic+mb) and depth [pc, pc+kb) of op(a) as row panels of gemmMR: panel q holds, for each
// p, the gemmMR values op(a)[ic+q*MR+r][pc+p], zero past the last row.
func packA(tA bool, a []float32, lda, ic, mb, pc, kb int, dst []float32) {
	for q := 0; q < mb; q += gemmMR {
		panel := dst[q*kb : (q+gemmMR)*kb]
		rows := min(gemmMR, mb-q)
		for r := 0; r < gemmMR; r++ {
			i := ic + q + r
			if r >= rows {
				for p := 0; p < kb; p++ {
					panel[p*gemmMR+r] = 0
				}
				continue
			}
			if tA {
				for p := 0; p < kb; p++ {
					panel[p*gemmMR+r] = a[(pc+p)*lda+i]
				}
			} else {
				src := a[i*lda+pc : i*lda+pc+kb]
				for p, v := range src {
					panel[p*gemmMR+r] = v
				}
			}
		}
	}
}

// packB writes depth [pc, pc+kb) and columns [jc, jc+nb) of op(b) as column panels of gemmNR: panel q holds, for
// each p, the gemmNR values op(b)[pc+p][jc+q*NR+j], zero past the last column.
func packB(tB bool, b []float32, ldb, pc, kb, jc, nb int, dst []float32) {
	for q := 0; q < nb; q += gemmNR {
		panel := dst[q*kb : (q+gemmNR)*kb]
		cols := min(gemmNR, nb-q)
		for p := 0; p < kb; p++ {
			out := panel[p*gemmNR : (p+1)*gemmNR]
			if tB {
				for j := 0; j < cols; j++ {
					out[j] = b[(jc+q+j)*ldb+pc+p]
				}
			} else {
				copy(out[:cols], b[(pc+p)*ldb+jc+q:(pc+p)*ldb+jc+q+cols])
			}
			clear(out[cols:])
		}
	}
}

// kernel6x16Go is the micro-kernel in plain Go (the reference for tests, and the fallback).
func kernel6x16Go(k int, a, b, c []float32) {
	var acc [gemmMR * gemmNR]float32
	for p := 0; p < k; p++ {
		bp := b[p*gemmNR : (p+1)*gemmNR]
		for r := 0; r < gemmMR; r++ {
			av := a[p*gemmMR+r]
			row := acc[r*gemmNR : (r+1)*gemmNR]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	copy(c, acc[:])
}
