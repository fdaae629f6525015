package model

import "github.com/dmmd/dmmd/model/internal/gemm"

// BLAS names the matrix-multiply backend of this build: a micro-kernel of model/internal/gemm (AVX-512 8x32 or
// AVX2/FMA 6x16; pure Go build on CPUs that have them) or gonum's pure-Go BLAS, or OpenBLAS when built with
// -tags openblas. float32 results are reproducible bit for bit for one backend name.
func BLAS() string { return gemm.Backend() }
