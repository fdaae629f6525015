package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Witness computes the sampler's input gradients grad_z <phi(z; t), dir> for up to Batch particles at a time:
// one forward pass and one explicit input-VJP, no parameter gradients.
type Witness struct {
	*compiled
	z, dirs *tensor.Dense
	grad    *G.Value // boxes of their own (see compiled)
	phi     *G.Value
}

// NewWitness compiles the witness-gradient graph for p at the given batch size.
func NewWitness(p *Params, batch int) (*Witness, error) {
	c, err := newCompiled(p, batch)
	if err != nil {
		return nil, err
	}
	w := &Witness{compiled: c}
	var phi, gz *G.Node
	w.z, phi, gz, err = c.witnessGraph(func(*G.Node) (*G.Node, error) {
		var dirs *G.Node
		dirs, w.dirs = c.b.input("dirs", batch, p.cfg.FeatureDim)
		return dirs, nil
	})
	if err != nil {
		return nil, err
	}
	w.grad = c.read(gz, tensor.New(tensor.Of(c.b.dt), tensor.WithShape(gz.Shape()...)))
	w.phi = c.read(phi, tensor.New(tensor.Of(c.b.dt), tensor.WithShape(phi.Shape()...)))
	return w, c.compile()
}

// witnessGraph adds the particles input z (batch, C, H, W), the time input, phi(z; t) and the input gradient
// grad_{z_i} <phi_i, dir_i> for the directions dirsOf(phi) (constants of the gradient: an explicit input-VJP).
func (c *compiled) witnessGraph(dirsOf func(phi *G.Node) (*G.Node, error)) (z *tensor.Dense, phi, gz *G.Node, err error) {
	cfg := c.cfg
	var zn *G.Node
	zn, z = c.b.input("z", c.batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	ts, err := c.timeInput()
	if err != nil {
		return nil, nil, nil, err
	}
	phi, tr, err := c.b.forward(zn, ts)
	if err != nil {
		return nil, nil, nil, err
	}
	dirs, err := dirsOf(phi)
	if err != nil {
		return nil, nil, nil, err
	}
	// The gradient of sum_i <phi_i, dir_i> with respect to the head input is dirs · W_head.
	gflat, err := c.b.seed(dirs)
	if err != nil {
		return nil, nil, nil, err
	}
	gz, err = c.b.inputVJP(tr, gflat)
	return z, phi, gz, err
}

// Grad writes grad_{z_i} <phi(z_i; t), dir_i> for the n = len(z)/InputSize <= Batch particles of z into out
// (n*InputSize). dirs holds either one direction of D values shared by all particles or n*D values, one per particle.
func (w *Witness) Grad(z []float32, t float64, dirs []float32, out []float32) error {
	size, d := w.cfg.InputSize(), w.cfg.FeatureDim
	n, err := w.rows("Witness: z", len(z), size)
	if err != nil {
		return err
	}
	if len(out) != len(z) {
		return fmt.Errorf("model: Witness: out has %d values, want %d", len(out), len(z))
	}
	if len(dirs) != d && len(dirs) != n*d {
		return fmt.Errorf("model: Witness: dirs has %d values, want %d (shared) or %d (per particle)", len(dirs), d, n*d)
	}
	if err := checkLevel(t); err != nil {
		return err
	}
	setImages(w.z, z, size)
	if len(dirs) == d && n > 1 {
		setShared(w.dirs, dirs, n)
	} else {
		setImages(w.dirs, dirs, d)
	}
	if err := w.run(t); err != nil {
		return err
	}
	getFloats(out, (*w.grad).(*tensor.Dense))
	return nil
}

// Features writes the features phi(z_i; t) computed by the last Grad call into out (n*D).
func (w *Witness) Features(out []float32) { getFloats(out, (*w.phi).(*tensor.Dense)) }

// setShared writes one direction into the first n rows of dst and zeroes the rest.
func setShared(dst *tensor.Dense, dir []float32, n int) {
	d := len(dir)
	switch v := dst.Data().(type) {
	case []float32:
		for i := 0; i < n; i++ {
			copy(v[i*d:(i+1)*d], dir)
		}
		clear(v[n*d:])
	case []float64:
		for i := 0; i < n; i++ {
			for j, x := range dir {
				v[i*d+j] = float64(x)
			}
		}
		clear(v[n*d:])
	}
}
