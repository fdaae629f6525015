package model

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/model/internal/gemm"
	"github.com/dmmd/dmmd/model/internal/parallel"
)

// AdamConfig holds Adam's hyperparameters (PyTorch's formulation, no weight decay).
type AdamConfig struct {
	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	Eps   float64 `json:"eps"`
}

// DefaultAdam is the measured default of ../shared/notes/dmmd.md: lr 3e-4, betas (0.5, 0.999).
func DefaultAdam() AdamConfig { return AdamConfig{LR: 3e-4, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8} }

// Validate rejects settings Adam cannot use.
func (c AdamConfig) Validate() error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: Adam learning rate %v must be finite and > 0", ErrConfig, c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("%w: Adam beta1 %v must lie in [0, 1)", ErrConfig, c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("%w: Adam beta2 %v must lie in [0, 1)", ErrConfig, c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("%w: Adam eps %v must be finite and > 0", ErrConfig, c.Eps)
	}
	return nil
}

// Adam is the optimiser state: the step count and the first and second moments, in the parameters' layout and
// dtype, so that a checkpoint can store and restore them exactly.
type Adam struct {
	Config AdamConfig
	Step   int64   // number of updates applied
	M, V   *Params // first and second moment estimates
}

// NewAdam returns a fresh optimiser for parameters shaped like p.
func NewAdam(p *Params, c AdamConfig) (*Adam, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := NewParams(p.cfg)
	if err != nil {
		return nil, err
	}
	v, _ := NewParams(p.cfg)
	return &Adam{Config: c, M: m, V: v}, nil
}

// Update applies one Adam step to p with gradient g:
//
//	m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,  p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
func (a *Adam) Update(p, g *Params) error {
	if err := sameLayout(p, g); err != nil {
		return err
	}
	if err := sameLayout(p, a.M); err != nil {
		return err
	}
	a.Step++
	c := a.Config
	bc1 := 1 - math.Pow(c.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(c.Beta2, float64(a.Step))
	for i := range p.tensors {
		switch pd := p.tensors[i].Data().(type) {
		case []float32:
			adamKernel(pd, g.tensors[i].Data().([]float32), a.M.tensors[i].Data().([]float32),
				a.V.tensors[i].Data().([]float32), c, bc1, bc2)
		case []float64:
			adamKernel(pd, g.tensors[i].Data().([]float64), a.M.tensors[i].Data().([]float64),
				a.V.tensors[i].Data().([]float64), c, bc1, bc2)
		}
	}
	return nil
}

func adamKernel[T gemm.Float](p, g, m, v []T, c AdamConfig, bc1, bc2 float64) {
	sqrtBC2 := math.Sqrt(bc2)
	stepSize := c.LR / bc1
	parallel.For(len(p), 30, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			gj := float64(g[j])
			mj := c.Beta1*float64(m[j]) + (1-c.Beta1)*gj
			vj := c.Beta2*float64(v[j]) + (1-c.Beta2)*gj*gj
			m[j], v[j] = T(mj), T(vj)
			p[j] = T(float64(p[j]) - stepSize*mj/(math.Sqrt(vj)/sqrtBC2+c.Eps))
		}
	})
}

// EMA is an exponential moving average of the parameters, the weights used for sampling.
type EMA struct {
	Decay   float64 `json:"decay"`
	Updates int64   `json:"updates"` // number of updates applied (drives the warm-up)
	Params  *Params `json:"-"`
}

// NewEMA starts an average at a copy of p.
func NewEMA(p *Params, decay float64) (*EMA, error) {
	if !(decay >= 0 && decay < 1) {
		return nil, fmt.Errorf("%w: EMA decay %v must lie in [0, 1)", ErrConfig, decay)
	}
	return &EMA{Decay: decay, Params: p.Clone()}, nil
}

// Rate is the decay used for the next update: min(Decay, (1+n)/(10+n)) with n = Updates (a warm-up, so early
// averages are not dominated by the random initialisation).
func (e *EMA) Rate() float64 {
	n := float64(e.Updates)
	return math.Min(e.Decay, (1+n)/(10+n))
}

// Update folds p into the average: ema = d ema + (1-d) p with d = Rate().
func (e *EMA) Update(p *Params) error {
	if err := sameLayout(e.Params, p); err != nil {
		return err
	}
	d := e.Rate()
	for i := range p.tensors {
		switch ed := e.Params.tensors[i].Data().(type) {
		case []float32:
			emaKernel(ed, p.tensors[i].Data().([]float32), d)
		case []float64:
			emaKernel(ed, p.tensors[i].Data().([]float64), d)
		}
	}
	e.Updates++
	return nil
}

func emaKernel[T gemm.Float](e, p []T, d float64) {
	parallel.For(len(e), 5, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			e[j] = T(d*float64(e[j]) + (1-d)*float64(p[j]))
		}
	})
}

// ClipGradNorm scales g in place so that its global L2 norm (over every tensor) is at most maxNorm, and returns
// the norm before clipping. maxNorm <= 0 only measures. A non-finite norm is returned as is, g untouched.
func ClipGradNorm(g *Params, maxNorm float64) float64 {
	var sum float64
	for i := range g.tensors {
		switch d := g.tensors[i].Data().(type) {
		case []float32:
			for _, v := range d {
				sum += float64(v) * float64(v)
			}
		case []float64:
			for _, v := range d {
				sum += v * v
			}
		}
	}
	norm := math.Sqrt(sum)
	if maxNorm <= 0 || !(norm > maxNorm) || math.IsInf(norm, 0) {
		return norm
	}
	scale := maxNorm / norm
	for i := range g.tensors {
		switch d := g.tensors[i].Data().(type) {
		case []float32:
			for j := range d {
				d[j] = float32(float64(d[j]) * scale)
			}
		case []float64:
			for j := range d {
				d[j] *= scale
			}
		}
	}
	return norm
}
