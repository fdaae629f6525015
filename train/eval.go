package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// HeldOutMMD estimates how well the critic p separates noisy from clean data at one level t: the unbiased
// linear-kernel MMD^2 between phi(x_t) for n forward-noised images and phi(y) for n other clean images, all from
// ds (use images the run did not train on). The noise is drawn from seed, so two calls compare like with like.
func HeldOutMMD(p *model.Params, ds data.Dataset, sched diffusion.Schedule, t float64, n int, seed uint64) (float64, error) {
	if n < 2 || 2*n > ds.Len() {
		return 0, fmt.Errorf("train: HeldOutMMD: need 2 <= n and 2n <= %d images, got n = %d", ds.Len(), n)
	}
	cfg := p.Config()
	chunk := min(n, 64)
	f, err := model.NewFeatures(p, chunk)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	size, d := cfg.InputSize(), cfg.FeatureDim
	rng := rand.New(rand.NewPCG(seed, 7))
	img := make([]float32, chunk*size)
	a, b := make([]float32, n*d), make([]float32, n*d)
	for side, out := range [][]float32{a, b} {
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			for i := lo; i < hi; i++ {
				ds.Image(side*n+i, img[(i-lo)*size:(i-lo+1)*size])
			}
			x := img[:(hi-lo)*size]
			if side == 0 {
				if err := sched.Noise(x, x, t, rng); err != nil {
					return 0, err
				}
			}
			if err := f.Run(x, t, out[lo*d:hi*d]); err != nil {
				return 0, err
			}
		}
	}
	return model.MMD2Unbiased(a, b, d)
}
