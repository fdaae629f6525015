package model

import (
	"fmt"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ExactWitness computes one step of the exact MMD flow's witness gradients for n particles in one pass: the
// features phi(z_i; t) of all of them, their leave-one-out directions
// dir_i = m_P - (sum_j phi(z_j; t) - phi(z_i; t)) / (n - 1), and grad_{z_i} <phi(z_i; t), dir_i>, with the
// directions held constant. It gives bit for bit what Features followed by Witness.Grad with those directions
// (computed in float64 as sample.Flow does) give, from one forward pass instead of two.
type ExactWitness struct {
	*compiled
	z    *tensor.Dense
	loo  ops.LOO
	grad *G.Value // a box of its own (see compiled)
}

// NewExactWitness compiles the one-pass exact-flow graph of p for up to batch >= 2 particles.
func NewExactWitness(p *Params, batch int) (*ExactWitness, error) {
	if batch < 2 {
		return nil, fmt.Errorf("model: ExactWitness needs a batch of at least 2 particles, got %d", batch)
	}
	c, err := newCompiled(p, batch)
	if err != nil {
		return nil, err
	}
	w := &ExactWitness{compiled: c}
	var gz *G.Node
	w.z, _, gz, err = c.witnessGraph(func(phi *G.Node) (*G.Node, error) {
		dirs, loo, err := ops.LeaveOneOut(phi)
		w.loo = loo
		return dirs, err
	})
	if err != nil {
		return nil, err
	}
	w.grad = c.read(gz, tensor.New(tensor.Of(c.b.dt), tensor.WithShape(gz.Shape()...)))
	return w, c.compile()
}

// Grad writes the exact flow's witness gradients of the n = len(z)/InputSize particles of z (2 <= n <= Batch)
// at level t into out (n*InputSize), with m_P the reference mean embedding at that step (D values).
func (w *ExactWitness) Grad(z []float32, t float64, mp []float64, out []float32) error {
	size, d := w.cfg.InputSize(), w.cfg.FeatureDim
	n, err := w.rows("ExactWitness: z", len(z), size)
	if err != nil {
		return err
	}
	switch {
	case n < 2:
		return fmt.Errorf("model: ExactWitness: %d particle, want at least 2 (the leave-one-out mean)", n)
	case len(out) != len(z):
		return fmt.Errorf("model: ExactWitness: out has %d values, want %d", len(out), len(z))
	case len(mp) != d:
		return fmt.Errorf("model: ExactWitness: m_P has %d values, want %d", len(mp), d)
	}
	if err := checkLevel(t); err != nil {
		return err
	}
	setImages(w.z, z, size)
	w.loo.Set(mp, n)
	if err := w.run(t); err != nil {
		return err
	}
	getFloats(out, (*w.grad).(*tensor.Dense))
	return nil
}
