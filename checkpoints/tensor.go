package checkpoints

import (
	"fmt"
	"math"
	"math/bits"
)

// Tensor is one named tensor: its dtype, its shape (row-major; an empty shape is a scalar) and its data,
// little-endian, exactly prod(Shape)*DType.Size() bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// MetadataKey is the reserved header key that holds the string-to-string metadata map.
const MetadataKey = "__metadata__"

// numElements returns the product of shape, or an error for a negative dimension or an overflow.
func numElements(shape []int) (int, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n = lo
	}
	return int(n), nil
}

// byteLen returns prod(shape)*size, or an error on overflow.
func byteLen(shape []int, size int) (int, error) {
	n, err := numElements(shape)
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(uint64(n), uint64(size))
	if hi != 0 || lo > math.MaxInt {
		return 0, fmt.Errorf("shape %v has too many bytes", shape)
	}
	return int(lo), nil
}

func cloneInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return append([]int{}, s...)
}
