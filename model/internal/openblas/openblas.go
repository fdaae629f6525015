//go:build openblas && cgo

package openblas

// This file is separate from package gemm because a package cannot hold both cgo and Go assembly files.

// #cgo LDFLAGS: -lopenblas
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// Implementation is gonum's cgo CBLAS binding, served by the OpenBLAS this package links.
func Implementation() netlib.Implementation { return netlib.Implementation{} }
