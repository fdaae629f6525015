//go:build !amd64 || purego

package gemm

// Without the assembly micro-kernels every float32 product goes to the configured BLAS.
var haveKernel = false

// bestKernel is unused without the assembly kernels (useKernelGEMM is false); tests run the Go kernel.
var bestKernel = goKernel(6, 16)

// kernels lists the micro-kernels this CPU can run, for the tests.
var kernels = []microKernel{goKernel(6, 16), goKernel(8, 32)}
