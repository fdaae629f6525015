package data

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkBatch64 assembles batches of 64 CIFAR-10-sized images (3x32x32,
// with random flips) from a 50,000-image dataset, as the trainer does.
func BenchmarkBatch64(b *testing.B) {
	shape := Shape{3, 32, 32}
	const n, batch = 50000, 64
	pix := make([]uint8, n*shape.Size())
	r := rand.New(rand.NewPCG(1, 2))
	for k := range pix {
		pix[k] = uint8(r.Uint32())
	}
	ds, err := NewU8(shape, pix, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := NewSampler(n, 1, true)
	dst := make([]float32, batch*shape.Size())
	b.SetBytes(int64(batch * shape.Size()))
	for b.Loop() {
		Batch(ds, s, dst, batch)
	}
}
