//go:build !amd64 || purego

package ops

const haveSigmoid8 = false

// sigmoids writes s[i] = sigmoid32(x[i]) for every i < len(x).
func sigmoids(x, s []float32) {
	s = s[:len(x)]
	for i, v := range x {
		s[i] = sigmoid32(v)
	}
}
