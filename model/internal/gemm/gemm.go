// Package gemm is the network's one matrix product, C = op(A) op(B) + beta C: float32 goes to the blocked product
// of this package (blocked.go; an AVX-512 8x32 or AVX2/FMA 6x16 micro-kernel in Go assembly) when the CPU has one
// and the build is pure Go, every other product to the BLAS Gorgonia is configured with (gonum's pure-Go BLAS by
// default, OpenBLAS with -tags openblas). The blocked product also takes operands in a convolution's batch layout
// (HW32) and the patch matrix of a convolution input read on the fly (Patches32).
package gemm

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
)

// Float is the element type of a network: float32 (training and sampling) or float64 (gradient checks).
type Float interface{ ~float32 | ~float64 }

// blasName names the BLAS the products run on when the kernel does not.
var blasName = "gonum (pure Go)"

// Backend names the matrix-multiply backend of this build: this package's micro-kernel (AVX-512 8x32 or AVX2/FMA
// 6x16, pure Go build on CPUs that have them) or gonum's pure-Go BLAS, or OpenBLAS when built with -tags openblas.
// float32 results are bit-for-bit reproducible for one backend name.
func Backend() string {
	if useKernelGEMM {
		return "dmmd " + bestKernel.name + " kernel (pure Go build)"
	}
	return blasName
}

// Do computes c = op(a) op(b) + beta c in row-major layout, with op(x) = x^T where tA (tB) is set: op(a) is m x k,
// op(b) is k x n, c is m x n; lda, ldb and ldc are the row strides of a, b and c as stored.
func Do[T Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		if useKernelGEMM {
			sgemmBlocked(tA, tB, m, n, k, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
		G.WhichBLAS().Sgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		G.WhichBLAS().Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// HW32 is Do for float32 with operands in the batch layout of a convolution's activations: a logical matrix X
// (rows x cols) whose columns are (sample, position) pairs, col = s*hw + q, stored as (samples, rows, hw), so that
// X[r][col] is at x[(s*rows+r)*hw + q]. aHW, bHW and cHW give hw for A (m x k), B (k x n) and C (m x n), 0 for
// row-major (with lda, ldb, ldc); a transposed operand must be row-major. A convolution reads and writes its
// activations in place this way, without transposing them to and from (C, B*HW). It reports false, and does
// nothing, where this build has no micro-kernel (the caller then transposes).
func HW32(tA, tB bool, m, n, k int, a []float32, lda, aHW int, b []float32, ldb, bHW int, beta float32, c []float32, ldc, cHW int) bool {
	if !useKernelGEMM || (tA && aHW > 0) || (tB && bHW > 0) {
		return false
	}
	sgemmLayout(bestKernel, batchLayout{a: aHW, b: bHW, c: cHW}, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	return true
}
