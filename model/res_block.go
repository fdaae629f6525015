package model

import (
	"fmt"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
)

// resBlock is residual block R of level L: h (B, W, S, S) -> h' of the same shape, with W = Widths[L]:
//
//	u1 = silu(h); a1 = conv1(u1) + conv1.bias + temb(tau); u2 = silu(a1); h' = h + conv2(u2) + conv2.bias
//
// (3x3 convolutions, stride 1, padding 1; temb(tau) = tau temb.weight^T, a (G, W) bias, row g for group g).
type resBlock struct {
	level, index  int
	width, hidden dim
}

func newResBlock(c Config, level, index int) *resBlock {
	return &resBlock{level: level, index: index, width: dim{c.Widths[level], "W"},
		hidden: dim{c.TimeHidden, "TimeHidden"}}
}

func (r *resBlock) prefix() string { return fmt.Sprintf("levels.%d.res.%d.", r.level, r.index) }

func (r *resBlock) params() []param {
	l := paramList{prefix: r.prefix(), docPrefix: "levels.L.res.R."}
	w, k := r.width, size(3)
	l.add("conv1.weight", dims(w, w, k, k), "W = Widths[L]; for R in [0, ResBlocks)")
	l.add("conv1.bias", dims(w))
	l.add("temb.weight", dims(w, r.hidden), "no bias")
	l.add("conv2.weight", dims(w, w, k, k))
	l.add("conv2.bias", dims(w))
	return l.list
}

func (r *resBlock) forward(b *builder, h, tau *G.Node) (_ *G.Node, _ saved, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	p := r.prefix()
	u1 := c.Op(ops.SiLU(h))
	c1 := c.Op(ops.ConvIn(b.runs, u1, b.p(p+"conv1.weight"), 1, 1))
	tb := c.Op(timeBias(b, tau, p+"temb.weight"))
	a1 := c.Op(ops.AddBias(c1, b.p(p+"conv1.bias"), tb))
	u2 := c.Op(ops.SiLU(a1))
	c2 := c.Op(ops.ConvIn(b.runs, u2, b.p(p+"conv2.weight"), 1, 1))
	a2 := c.Op(ops.AddBias(c2, b.p(p+"conv2.bias")))
	return c.Op(G.Add(h, a2)), saved{in: h, keep: []*G.Node{a1}}, c.Err
}

// vjp: J_h^T g = g + dsilu(h) * conv1^T(dsilu(a1) * conv2^T(g)), with conv^T the transposed convolution.
func (r *resBlock) vjp(b *builder, s saved, g *G.Node) (_ *G.Node, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	p, hs := r.prefix(), s.in.Shape()
	gu2 := c.Op(ops.ConvTIn(b.runs, g, b.p(p+"conv2.weight"), 1, 1, hs[2], hs[3]))
	ga1 := c.Op(ops.SiLUBack(gu2, s.keep[0])) // keep[0] = a1
	gu1 := c.Op(ops.ConvTIn(b.runs, ga1, b.p(p+"conv1.weight"), 1, 1, hs[2], hs[3]))
	gh := c.Op(ops.SiLUBack(gu1, s.in))
	return c.Op(G.Add(g, gh)), c.Err
}
