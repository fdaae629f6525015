package model

import (
	"fmt"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
)

// downBlock ends level L (every level but the last): h (B, W, S, S) -> h' (B, W', S', S'), with W = Widths[L],
// W' = Widths[L+1] and S' = (S - 1)/2 + 1:
//
//	a = conv(silu(h)) + conv.bias + temb(tau); h' = a + skip(h) + skip.bias
//
// (conv: 3x3, stride 2, padding 1; skip: 1x1, stride 2, no padding; temb(tau) = tau temb.weight^T, a (G, W') bias).
type downBlock struct {
	level           int
	in, out, hidden dim
}

func newDownBlock(c Config, level int) *downBlock {
	return &downBlock{level: level, in: dim{c.Widths[level], "W"}, out: dim{c.Widths[level+1], "W'"},
		hidden: dim{c.TimeHidden, "TimeHidden"}}
}

func (d *downBlock) prefix() string { return fmt.Sprintf("levels.%d.down.", d.level) }

func (d *downBlock) params() []param {
	l := paramList{prefix: d.prefix(), docPrefix: "levels.L.down."}
	l.add("conv.weight", dims(d.out, d.in, size(3), size(3)), "W' = Widths[L+1]; for every level but the last")
	l.add("conv.bias", dims(d.out))
	l.add("temb.weight", dims(d.out, d.hidden), "no bias")
	l.add("skip.weight", dims(d.out, d.in, size(1), size(1)))
	l.add("skip.bias", dims(d.out))
	return l.list
}

func (d *downBlock) forward(b *builder, h, tau *G.Node) (_ *G.Node, _ saved, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	p := d.prefix()
	u := c.Op(ops.SiLU(h))
	cv := c.Op(ops.ConvIn(b.runs, u, b.p(p+"conv.weight"), 2, 1))
	tb := c.Op(timeBias(b, tau, p+"temb.weight"))
	a := c.Op(ops.AddBias(cv, b.p(p+"conv.bias"), tb))
	sk := c.Op(ops.ConvIn(b.runs, h, b.p(p+"skip.weight"), 2, 0))
	sk = c.Op(ops.AddBias(sk, b.p(p+"skip.bias")))
	return c.Op(G.Add(a, sk)), saved{in: h}, c.Err
}

// vjp: J_h^T g = dsilu(h) * conv^T(g) + skip^T(g), with ^T the transposed convolutions.
func (d *downBlock) vjp(b *builder, s saved, g *G.Node) (_ *G.Node, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	p, hs := d.prefix(), s.in.Shape()
	gu := c.Op(ops.ConvTIn(b.runs, g, b.p(p+"conv.weight"), 2, 1, hs[2], hs[3]))
	gh := c.Op(ops.SiLUBack(gu, s.in))
	gk := c.Op(ops.ConvTIn(b.runs, g, b.p(p+"skip.weight"), 2, 0, hs[2], hs[3]))
	return c.Op(G.Add(gh, gk)), c.Err
}
