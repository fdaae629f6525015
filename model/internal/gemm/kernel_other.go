//go:build !amd64 || purego

package gemm

// Without the assembly micro-kernel every float32 product goes to the configured BLAS.
var haveKernel = false

func kernel6x16(k int, a, b, c []float32) { kernel6x16Go(k, a, b, c) }
