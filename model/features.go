package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Features computes phi(x; t) for up to Batch images at a time (used for the mean embeddings and the exact flow).
type Features struct {
	*compiled
	x   *tensor.Dense
	out *G.Value // a box of its own (see compiled)
}

// NewFeatures compiles the feature graph for p at the given batch size. It reads p's tensors at every run.
func NewFeatures(p *Params, batch int) (*Features, error) {
	c, err := newCompiled(p, batch)
	if err != nil {
		return nil, err
	}
	f := &Features{compiled: c}
	cfg := p.cfg
	var x *G.Node
	x, f.x = c.b.input("x", batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	ts, err := c.timeInput()
	if err != nil {
		return nil, err
	}
	phi, _, err := c.b.forward(x, ts)
	if err != nil {
		return nil, err
	}
	f.out = c.read(phi, tensor.New(tensor.Of(c.b.dt), tensor.WithShape(batch, cfg.FeatureDim)))
	return f, c.compile()
}

// Run writes phi(x_i; t) for the n = len(x)/InputSize <= Batch images of x (CHW, row-major) into out (n*D).
func (f *Features) Run(x []float32, t float64, out []float32) error {
	n, err := f.rows("Features: x", len(x), f.cfg.InputSize())
	if err != nil {
		return err
	}
	if len(out) != n*f.cfg.FeatureDim {
		return fmt.Errorf("model: Features: out has %d values, want %d", len(out), n*f.cfg.FeatureDim)
	}
	if err := checkLevel(t); err != nil {
		return err
	}
	setImages(f.x, x, f.cfg.InputSize())
	if err := f.run(t); err != nil {
		return err
	}
	getFloats(out, (*f.out).(*tensor.Dense))
	return nil
}
