package model_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/dmmd/dmmd/model"
)

// A training step: the critic loss on a noisy and a clean batch, then Adam and the EMA.
func ExampleTrainStep() {
	cfg, _ := model.Preset("tiny", 8, 1)
	params, _ := model.Init(cfg, 1)
	step, err := model.NewTrainStep(params, 4, model.DefaultLoss())
	if err != nil {
		fmt.Println(err)
		return
	}
	adam, _ := model.NewAdam(params, model.DefaultAdam())
	ema, _ := model.NewEMA(params, 0.999)

	rng := rand.New(rand.NewPCG(1, 2))
	xt := make([]float32, 4*cfg.InputSize()) // x_t = alpha_t x0 + beta_t eps (see package diffusion)
	y := make([]float32, 4*cfg.InputSize())  // an independent clean batch
	for i := range xt {
		xt[i], y[i] = float32(rng.NormFloat64()), float32(rng.Float64()*2-1)
	}
	stats, err := step.Run(xt, y, 0.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = adam.Update(params, step.Grads())
	_ = ema.Update(params)
	fmt.Printf("loss = -mmd2 + 0.1 l2 + 10 penalty: %t\n", close(stats.Loss, -stats.MMD2+0.1*stats.L2+10*stats.GradPenalty))
	fmt.Println("adam steps:", adam.Step)
	// Output:
	// loss = -mmd2 + 0.1 l2 + 10 penalty: true
	// adam steps: 1
}

func close(a, b float64) bool { return a-b < 1e-4 && b-a < 1e-4 }

// The sampler's step direction: the gradient of the witness <phi(z; t), m_P - m_Q> at each particle.
func ExampleWitness() {
	cfg, _ := model.Preset("tiny", 8, 1)
	params, _ := model.Init(cfg, 1)
	w, err := model.NewWitness(params, 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	z := make([]float32, 3*cfg.InputSize()) // 3 particles; any count up to the batch size
	dir := make([]float32, cfg.FeatureDim)  // m_P - m_Q, shared by all particles
	dir[0] = 1
	grad := make([]float32, len(z))
	if err := w.Grad(z, 0.1, dir, grad); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(grad) == 3*cfg.InputSize())
	// Output: true
}

// Mean embeddings: average the features of a batch.
func ExampleFeatures() {
	cfg, _ := model.Preset("tiny", 8, 1)
	params, _ := model.Init(cfg, 1)
	f, _ := model.NewFeatures(params, 8)
	x := make([]float32, 8*cfg.InputSize())
	phi := make([]float32, 8*cfg.FeatureDim)
	if err := f.Run(x, 0.01, phi); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(phi), cfg.FeatureDim)
	// Output: 64 8
}

// The unbiased linear-kernel MMD^2 of two feature sets.
func ExampleMMD2Unbiased() {
	a := []float64{0, 0, 1, 1} // two rows of d = 2
	b := []float64{2, 2, 3, 3}
	m, _ := model.MMD2Unbiased(a, b, 2)
	fmt.Printf("%.2f\n", m)
	// Output: 7.00
}
