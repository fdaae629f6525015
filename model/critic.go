package model

import "fmt"

// Critic serves phi and its witness gradient for any number of particles, in chunks of a fixed batch size:
// the interface the sampler's flows use.
type Critic struct {
	cfg   Config
	feats *Features
	wit   *Witness
	chunk int
}

// NewCritic compiles the feature and witness graphs of p for chunks of the given size.
func NewCritic(p *Params, chunk int) (*Critic, error) {
	f, err := NewFeatures(p, chunk)
	if err != nil {
		return nil, err
	}
	w, err := NewWitness(p, chunk)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Critic{cfg: p.cfg, feats: f, wit: w, chunk: chunk}, nil
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
	n := len(z) / size
	for lo := 0; lo < n; lo += c.chunk {
		hi := min(lo+c.chunk, n)
		if err := c.feats.Run(z[lo*size:hi*size], t, out[lo*d:hi*d]); err != nil {
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
	for lo := 0; lo < n; lo += c.chunk {
		hi := min(lo+c.chunk, n)
		dir := dirs
		if !shared {
			dir = dirs[lo*d : hi*d]
		}
		if err := c.wit.Grad(z[lo*size:hi*size], t, dir, out[lo*size:hi*size]); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the compiled graphs.
func (c *Critic) Close() error {
	err := c.feats.Close()
	if e := c.wit.Close(); err == nil {
		err = e
	}
	return err
}
