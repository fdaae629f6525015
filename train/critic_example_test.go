package train_test

import (
	"fmt"
	"log"
	"math"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/train"
)

// The critic diagnostics of a set of weights (here an untrained tiny critic on 8x8 blobs; a run's are
// train.LoadEMA of a checkpoint, and the trainer logs them to diagnostics.jsonl): per level, the participation
// ratio of the clean features lies between 1 (one direction) and D, the share of their variance along c in
// [0, 1], and the biased MMD^2 is ||c||^2. A RefLevel compares x_t with images noised to s instead of clean ones.
func ExampleDiagnoseCritic() {
	m, err := model.Preset("tiny", 8, 1)
	if err != nil {
		log.Fatal(err)
	}
	p, err := model.Init(m, 1)
	if err != nil {
		log.Fatal(err)
	}
	pix := make([]uint8, 40*64)
	for i := range 40 { // a blob per image, centred at a different place
		for j := range 64 {
			dx, dy := float64(j%8-i%7), float64(j/8-i%5-1)
			pix[i*64+j] = uint8(255 * math.Exp(-(dx*dx+dy*dy)/4))
		}
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: 8, W: 8}, pix, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, ref := range []func(float64) float64{nil, func(t float64) float64 { return t / 2 }} {
		d, err := train.DiagnoseCritic(p, ds, diffusion.Default(),
			train.DiagOptions{N: 16, Levels: []float64{0.1, 1}, RefLevel: ref})
		if err != nil {
			log.Fatal(err)
		}
		for _, l := range d.Levels {
			fmt.Printf("t = %g, reference at s = %g: PR in [1, %d] %v, share along c in [0, 1] %v, MMD_b^2 = ||c||^2 %v\n",
				l.T, l.RefT, m.FeatureDim, l.PRRef >= 1 && l.PRRef <= float64(m.FeatureDim),
				l.VarAlongC >= 0 && l.VarAlongC <= 1, math.Abs(l.MMD2Biased-l.CNorm*l.CNorm) < 1e-12)
		}
	}
	// Output:
	// t = 0.1, reference at s = 0: PR in [1, 8] true, share along c in [0, 1] true, MMD_b^2 = ||c||^2 true
	// t = 1, reference at s = 0: PR in [1, 8] true, share along c in [0, 1] true, MMD_b^2 = ||c||^2 true
	// t = 0.1, reference at s = 0.05: PR in [1, 8] true, share along c in [0, 1] true, MMD_b^2 = ||c||^2 true
	// t = 1, reference at s = 0.5: PR in [1, 8] true, share along c in [0, 1] true, MMD_b^2 = ||c||^2 true
}
