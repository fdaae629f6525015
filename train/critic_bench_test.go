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
	rng := rand.New(rand.NewPCG(1, 1))
	pix := make([]uint8, 2*DefaultDiagN*28*28)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: 28, W: 28}, pix, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := DiagnoseCritic(p, ds, diffusion.Default(), DiagOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
