package train

import (
	"math/rand/v2"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// BenchmarkDiagnose is the cost of the critic diagnostics at one checkpoint with the defaults: the small preset on
// MNIST-sized 1x28x28 images, n = 256 per set, the 9 default levels (README.md quotes it).
func BenchmarkDiagnose(b *testing.B) {
	m, err := model.Preset("small", 28, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, err := model.Init(m, 1)
	if err != nil {
		b.Fatal(err)
	}
	ds := noiseImages(b, 2*DefaultDiagN, data.Shape{C: 1, H: 28, W: 28})
	b.ResetTimer()
	for range b.N {
		if _, err := DiagnoseCritic(p, ds, diffusion.Default(), DiagOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// noiseImages is a dataset of n images of uniformly random pixels (seeded): for benchmarks, whose cost does not
// depend on the pixels.
func noiseImages(b *testing.B, n int, shape data.Shape) *data.U8 {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	pix := make([]uint8, n*shape.Size())
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	ds, err := data.NewU8(shape, pix, nil)
	if err != nil {
		b.Fatal(err)
	}
	return ds
}
