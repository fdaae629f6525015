//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// sgemmKernel6x16 (AVX2/FMA) and sgemmKernel8x32 (AVX-512F) are implemented in kernel_amd64.s: the micro-kernel
// contract of microKernel, with ldc in elements.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, load bool)

//go:noescape
func sgemmKernel8x32(k int, a, b, c *float32, ldc int, load bool)

var (
	haveAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = haveAVX2 && cpu.X86.HasAVX512F
	// haveKernel reports whether the CPU can run an assembly micro-kernel.
	haveKernel = haveAVX2
)

var (
	avx2Kernel = microKernel{name: "avx2 6x16", mr: 6, nr: 16, run: func(k int, a, b, c []float32, ldc int, load bool) {
		_ = c[5*ldc+15] // the tile lies inside c
		sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, load)
	}}
	avx512Kernel = microKernel{name: "avx512 8x32", mr: 8, nr: 32, run: func(k int, a, b, c []float32, ldc int, load bool) {
		_ = c[7*ldc+31]
		sgemmKernel8x32(k, &a[0], &b[0], &c[0], ldc, load)
	}}
)

// bestKernel is the micro-kernel sgemmBlocked uses: AVX-512 where the CPU has it, else AVX2.
var bestKernel = func() microKernel {
	if haveAVX512 {
		return avx512Kernel
	}
	return avx2Kernel
}()

// kernels lists the micro-kernels this CPU can run, for the tests (the Go kernels always).
var kernels = func() []microKernel {
	ks := []microKernel{goKernel(6, 16), goKernel(8, 32)}
	if haveAVX2 {
		ks = append(ks, avx2Kernel)
	}
	if haveAVX512 {
		ks = append(ks, avx512Kernel)
	}
	return ks
}()
