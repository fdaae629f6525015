package model

// blasName names the BLAS the convolutions and matmuls run on.
var blasName = "gonum (pure Go)"

// BLAS names the matrix-multiply backend of this build: gonum's pure-Go BLAS by default, OpenBLAS when built
// with -tags openblas.
func BLAS() string { return blasName }
