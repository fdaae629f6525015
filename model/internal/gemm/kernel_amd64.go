//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// sgemmKernel6x16 is implemented in gemm_amd64.s.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32)

// haveKernel reports whether the CPU can run the AVX2/FMA micro-kernel.
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func kernel6x16(k int, a, b, c []float32) { sgemmKernel6x16(k, &a[0], &b[0], &c[0]) }
