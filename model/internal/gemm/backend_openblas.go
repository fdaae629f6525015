//go:build openblas && cgo

package gemm

import (
	G "gorgonia.org/gorgonia"

	"github.com/dmmd/dmmd/model/internal/openblas"
)

// With -tags openblas every GEMM (ours and Gorgonia's) goes to OpenBLAS through gonum's cgo binding.
// Needs Debian's libopenblas-dev (or any libopenblas on the linker path).
func init() {
	G.Use(openblas.Implementation())
	blasName = "OpenBLAS (cgo)"
	useKernelGEMM = false
}
