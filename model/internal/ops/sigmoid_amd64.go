//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// sigmoid8 is implemented in sigmoid_amd64.s (AVX2): s[i] = sigmoid32(x[i]) for i < n, n a multiple of 8.
//
//go:noescape
func sigmoid8(x, s *float32, n int)

var haveSigmoid8 = cpu.X86.HasAVX2

// sigmoids writes s[i] = sigmoid32(x[i]) for every i < len(x), 8 at a time where the CPU allows; the results are
// bit-for-bit those of sigmoid32.
func sigmoids(x, s []float32) {
	s = s[:len(x)]
	n := 0
	if haveSigmoid8 {
		n = len(x) &^ 7
		if n > 0 {
			sigmoid8(&x[0], &s[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		s[i] = sigmoid32(x[i])
	}
}
