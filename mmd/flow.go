package mmd

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// FlowConfig configures a [Flow].
type FlowConfig struct {
	// Kernel of the MMD.
	Kernel Kernel
	// StepSize is gamma > 0 in Z <- Z + gamma grad f(Z + beta u).
	StepSize float64
	// Noise gives beta_n; nil means no noise injection.
	Noise NoiseSchedule
	// Seed seeds the injected noise: two flows with equal inputs and seeds
	// take identical steps.
	Seed uint64
}

// Flow is the forward-Euler MMD gradient flow of a set of particles towards
// a fixed target sample, with optional noise injection (Arbel et al. 2019):
//
//	Z_i <- Z_i + gamma grad f(Z_i + beta_n u_i),  u_i ~ N(0, I),
//
// where f is the [Witness] of the target against the current particles (1/M
// over targets, 1/N over particles), computed once per step before any
// particle moves. The noise only moves the point where the gradient is
// evaluated; the particle itself receives none.
type Flow struct {
	cfg    FlowConfig
	target Points
	z      Points // particles, updated in place
	noisy  Points
	grad   Points
	w      *Witness
	rng    *rand.Rand
	n      int
}

// NewFlow returns a flow that moves a copy of particles towards target.
func NewFlow(target, particles Points, cfg FlowConfig) (*Flow, error) {
	if !positiveFinite(cfg.StepSize) {
		return nil, fmt.Errorf("mmd: flow step size %v, need a positive finite step: %w", cfg.StepSize, ErrParam)
	}
	if cfg.Noise != nil {
		if err := cfg.Noise.Validate(); err != nil {
			return nil, err
		}
	}
	z := particles.Clone()
	w, err := NewWitness(cfg.Kernel, target, z)
	if err != nil {
		return nil, err
	}
	f := &Flow{
		cfg:    cfg,
		target: target,
		z:      z,
		grad:   Points{Data: make([]float64, len(z.Data)), Dim: z.Dim},
		w:      w,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x6d6d64666c6f77)),
	}
	if cfg.Noise != nil {
		f.noisy = Points{Data: make([]float64, len(z.Data)), Dim: z.Dim}
	}
	return f, nil
}

// Particles returns the current particles. The returned value shares the
// flow's storage: it changes with each Step and must not be modified.
func (f *Flow) Particles() Points { return f.z }

// Iteration returns the number of steps taken so far.
func (f *Flow) Iteration() int { return f.n }

// NoiseLevel returns the beta that the next step will use.
func (f *Flow) NoiseLevel() float64 {
	if f.cfg.Noise == nil {
		return 0
	}
	return f.cfg.Noise.Level(f.n)
}

// Step takes one step of the flow. It fails, leaving the particles as they
// were, if the step would produce a non-finite coordinate.
func (f *Flow) Step() error {
	at := f.z
	if beta := f.NoiseLevel(); beta > 0 {
		for i, v := range f.z.Data {
			f.noisy.Data[i] = v + beta*f.rng.NormFloat64()
		}
		at = f.noisy
	}
	f.w.grads(f.grad, at)
	g := f.cfg.StepSize
	for i, v := range f.grad.Data {
		if u := f.z.Data[i] + g*v; math.IsNaN(u) || math.IsInf(u, 0) {
			return fmt.Errorf("mmd: flow step %d: a particle coordinate would become %v (step size too large?): %w", f.n, u, ErrParam)
		}
	}
	for i, v := range f.grad.Data {
		f.z.Data[i] += g * v
	}
	f.n++
	return nil
}

// Run takes steps steps, calling each (when not nil) after every step; an
// error from each stops the run and is returned.
func (f *Flow) Run(steps int, each func(f *Flow) error) error {
	for range steps {
		if err := f.Step(); err != nil {
			return err
		}
		if each != nil {
			if err := each(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// MMD2 returns the biased estimate of MMD^2 between the target and the
// current particles, the quantity the noise-free flow decreases.
func (f *Flow) MMD2() (float64, error) { return MMD2Biased(f.cfg.Kernel, f.target, f.z) }

// Witness returns the witness of the target against the current particles.
// It follows the particles as they move.
func (f *Flow) Witness() *Witness { return f.w }
