package model

import "github.com/dmmd/dmmd/model/internal/gemm"

// BLAS names the matrix-multiply backend of this build: the AVX2/FMA kernel of model/internal/gemm (pure Go build
// on CPUs that have it) or gonum's pure-Go BLAS, or OpenBLAS when built with -tags openblas.
func BLAS() string { return gemm.Backend() }
