package model

import (
	"errors"
	"fmt"
)

// Critic serves phi and its witness gradient for any number of particles, in chunks of a fixed batch size:
// the interface the sampler's flows use.
type Critic struct {
	cfg    Config
	p      *Params
	feats  *Features // compiled on first use, as are the others
	wit    *Witness
	exact  *ExactWitness // for exactly the particle count of its last use
	chunk  int
	closed bool
}

// NewCritic returns the critic of p for chunks of the given size. Its graphs are compiled on first use (so that
// a flow pays in memory only for the ones it runs); it reads p's tensors at every run.
func NewCritic(p *Params, chunk int) (*Critic, error) {
	if chunk < 1 {
		return nil, fmt.Errorf("model: critic chunk %d must be positive", chunk)
	}
	return &Critic{cfg: p.cfg, p: p, chunk: chunk}, nil
}

func (c *Critic) features() (*Features, error) {
	if c.closed {
		return nil, errClosed
	}
	if c.feats == nil {
		f, err := NewFeatures(c.p, c.chunk)
		if err != nil {
			return nil, err
		}
		c.feats = f
	}
	return c.feats, nil
}

func (c *Critic) witness() (*Witness, error) {
	if c.closed {
		return nil, errClosed
	}
	if c.wit == nil {
		w, err := NewWitness(c.p, c.chunk)
		if err != nil {
			return nil, err
		}
		c.wit = w
	}
	return c.wit, nil
}

// Shape is the particle (image) shape.
func (c *Critic) Shape() (ch, h, w int) { return c.cfg.Channels, c.cfg.ImageSize, c.cfg.ImageSize }

// FeatureDim is D.
func (c *Critic) FeatureDim() int { return c.cfg.FeatureDim }

// Chunk is the batch size of the compiled graphs.
func (c *Critic) Chunk() int { return c.chunk }

// Features writes phi(z_i; t) for the len(z)/InputSize particles of z into out.
func (c *Critic) Features(z []float32, t float64, out []float32) error {
	size, d := c.cfg.InputSize(), c.cfg.FeatureDim
	if len(z)%size != 0 || len(out) != len(z)/size*d {
		return fmt.Errorf("model: Critic.Features: %d inputs and %d outputs do not match images of %d and %d features",
			len(z), len(out), size, d)
	}
	f, err := c.features()
	if err != nil {
		return err
	}
	n := len(z) / size
	for lo := 0; lo < n; lo += c.chunk {
		hi := min(lo+c.chunk, n)
		if err := f.Run(z[lo*size:hi*size], t, out[lo*d:hi*d]); err != nil {
			return err
		}
	}
	return nil
}

// WitnessGrad writes grad_{z_i} <phi(z_i; t), dir_i> into out, with dirs either one shared direction (D values)
// or one per particle.
func (c *Critic) WitnessGrad(z []float32, t float64, dirs []float32, out []float32) error {
	size, d := c.cfg.InputSize(), c.cfg.FeatureDim
	if len(z)%size != 0 || len(out) != len(z) {
		return fmt.Errorf("model: Critic.WitnessGrad: %d inputs and %d outputs for images of %d values", len(z), len(out), size)
	}
	n := len(z) / size
	shared := len(dirs) == d
	if !shared && len(dirs) != n*d {
		return fmt.Errorf("model: Critic.WitnessGrad: dirs has %d values, want %d or %d", len(dirs), d, n*d)
	}
	w, err := c.witness()
	if err != nil {
		return err
	}
	for lo := 0; lo < n; lo += c.chunk {
		hi := min(lo+c.chunk, n)
		dir := dirs
		if !shared {
			dir = dirs[lo*d : hi*d]
		}
		if err := w.Grad(z[lo*size:hi*size], t, dir, out[lo*size:hi*size]); err != nil {
			return err
		}
	}
	return nil
}

// ExactWitnessGrad takes the witness-gradient pass of one exact-flow step for all n = len(z)/InputSize >= 2
// particles in one graph run (ExactWitness, compiled for n particles on first use and again when n changes; it
// holds all n at once, so its memory grows with n, unlike the chunked graphs): out receives
// grad_{z_i} <phi(z_i; t), m_P - (sum_j phi(z_j; t) - phi(z_i; t)) / (n - 1)>, bit for bit what Features and
// WitnessGrad with those directions give.
func (c *Critic) ExactWitnessGrad(z []float32, t float64, mp []float64, out []float32) error {
	size := c.cfg.InputSize()
	if len(z)%size != 0 || len(z) < 2*size {
		return fmt.Errorf("model: Critic.ExactWitnessGrad: %d inputs are not at least 2 images of %d values", len(z), size)
	}
	if c.closed {
		return errClosed
	}
	n := len(z) / size
	if c.exact != nil && c.exact.Batch() != n {
		c.exact.Close()
		c.exact = nil
	}
	if c.exact == nil {
		w, err := NewExactWitness(c.p, n)
		if err != nil {
			return err
		}
		c.exact = w
	}
	return c.exact.Grad(z, t, mp, out)
}

// Close releases the compiled graphs; later calls return an error. Closing twice is harmless.
func (c *Critic) Close() error {
	var errs []error
	if c.feats != nil {
		errs = append(errs, c.feats.Close())
	}
	if c.wit != nil {
		errs = append(errs, c.wit.Close())
	}
	if c.exact != nil {
		errs = append(errs, c.exact.Close())
	}
	c.feats, c.wit, c.exact, c.closed = nil, nil, nil, true
	return errors.Join(errs...)
}
