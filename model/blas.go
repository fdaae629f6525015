package model

// blasName names the BLAS the convolutions and matmuls run on.
var blasName = "gonum (pure Go)"

// BLAS names the matrix-multiply backend of this build: this package's AVX2/FMA kernel (pure Go build on CPUs
// that have it) or gonum's pure-Go BLAS, or OpenBLAS when built with -tags openblas.
func BLAS() string {
	if useKernelGEMM {
		return "dmmd AVX2/FMA kernel (pure Go build)"
	}
	return blasName
}
