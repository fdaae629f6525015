package model

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// compiled is a graph compiled once for a fixed batch size and run many times.
//
// Memory: Gorgonia's tape machine carries a finalizer, and Go never collects a reference cycle that holds an object
// with a finalizer. The machine's read instructions keep pointers to their targets, so a read target inside the
// struct that owns the machine (G.Read(n, &s.field)) closes such a cycle and the whole graph, with all its
// buffers, stays for the life of the process. Every read therefore goes through read, into a box of its own that
// points nowhere back; Close drops the machine as well, so a graph is released by Close and by being dropped.
type compiled struct {
	cfg   Config
	batch int
	b     *builder
	vm    G.VM
	te    *tensor.Dense // (levels, TimeEmbed) time features
	tbuf  []float64
	// levels is the number of noise levels per run: 1, or the groups of a grouped training step (set before
	// timeInput).
	levels int
	one    [1]float64
}

func newCompiled(p *Params, batch int) (*compiled, error) {
	if batch < 1 {
		return nil, fmt.Errorf("model: batch size %d must be positive", batch)
	}
	c := &compiled{cfg: p.cfg, batch: batch, b: newBuilder(p), tbuf: make([]float64, p.cfg.TimeEmbed), levels: 1}
	return c, nil
}

// timeInput adds the (levels, TimeEmbed) input and the time MLP on top of it.
func (c *compiled) timeInput() (*G.Node, error) {
	e, t := c.b.input("time_features", c.levels, c.cfg.TimeEmbed)
	c.te = t
	return c.b.timeMLP(e)
}

func (c *compiled) compile() error {
	c.vm = G.NewTapeMachine(c.b.g)
	return nil
}

// read makes the graph copy n's value into a fresh box at every run, and returns the box (see compiled). init, if
// not nil, is the value the box starts with (Gorgonia copies into it rather than allocating a new one).
func (c *compiled) read(n *G.Node, init G.Value) *G.Value {
	box := new(G.Value)
	*box = init
	G.Read(n, box)
	return box
}

// errClosed is returned by a graph used after Close.
var errClosed = errors.New("model: the compiled graph was used after Close")

// run executes the graph once at level t (a graph of one level).
func (c *compiled) run(t float64) error {
	c.one[0] = t
	return c.runLevels(c.one[:])
}

// runLevels executes the graph once with one level per group; the caller has checked len(ts) == levels.
func (c *compiled) runLevels(ts []float64) error {
	if c.vm == nil {
		return errClosed
	}
	setTimes(c.te, ts, c.tbuf)
	c.b.runs.Next()
	err := c.vm.RunAll()
	c.vm.Reset()
	if err != nil {
		return fmt.Errorf("model: running the graph: %w", err)
	}
	return nil
}

// Close releases the compiled graph; later runs return an error. Closing twice is harmless.
func (c *compiled) Close() error {
	if c.vm == nil {
		return nil
	}
	err := c.vm.Close()
	c.vm, c.b = nil, nil
	return err
}

// Batch is the fixed batch size the graph was compiled for.
func (c *compiled) Batch() int { return c.batch }

// setImages copies n images (n*InputSize values) into the first rows of a (batch, C, H, W) input and zeroes the rest.
func setImages(dst *tensor.Dense, src []float32, per int) {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src)
		clear(d[len(src):])
	case []float64:
		for i, v := range src {
			d[i] = float64(v)
		}
		clear(d[len(src):])
	}
}

// getFloats copies the first len(dst) values of src into dst.
func getFloats(dst []float32, src *tensor.Dense) {
	switch s := src.Data().(type) {
	case []float32:
		copy(dst, s)
	case []float64:
		for i := range dst {
			dst[i] = float32(s[i])
		}
	}
}

// rows checks that a flat buffer holds a whole number n <= batch of rows of the given size, and returns n.
func (c *compiled) rows(what string, n, size int) (int, error) {
	if n == 0 || n%size != 0 {
		return 0, fmt.Errorf("model: %s has %d values, not a positive multiple of %d", what, n, size)
	}
	if n/size > c.batch {
		return 0, fmt.Errorf("model: %s holds %d rows, more than the batch size %d", what, n/size, c.batch)
	}
	return n / size, nil
}

func checkLevel(t float64) error {
	if !(t >= 0 && t <= 1) {
		return fmt.Errorf("model: level t = %v outside [0, 1]", t)
	}
	return nil
}
