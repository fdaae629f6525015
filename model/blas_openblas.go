//go:build openblas && cgo

package model

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas every GEMM (ours and Gorgonia's) goes to OpenBLAS through gonum's cgo binding.
// Needs Debian's libopenblas-dev (or any libopenblas on the linker path).
func init() {
	G.Use(netlib.Implementation{})
	blasName = "OpenBLAS (cgo)"
	useKernelGEMM = false
}
