package ops

import G "gorgonia.org/gorgonia"

// Chain threads the first error through a chain of graph constructions: c.Op(f(...)) records f's error and passes
// its node on. A constructor that fails returns a nil node, which the next constructor may panic on; Guard turns
// that panic back into the first error.
type Chain struct{ Err error }

// Op records err if it is the first, and returns n.
func (c *Chain) Op(n *G.Node, err error) *G.Node {
	if c.Err == nil && err != nil {
		c.Err = err
	}
	return n
}

// Guard, deferred with the builder's named error result, reports the first recorded error instead of a panic
// that followed it. Panics with no earlier error are bugs and propagate.
func (c *Chain) Guard(err *error) {
	if r := recover(); r != nil {
		if c.Err == nil {
			panic(r)
		}
		*err = c.Err
	}
}
