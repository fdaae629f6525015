package model

import (
	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
)

// stem is the first convolution: x (B, Channels, S, S) -> h = conv(x) + bias, (B, Widths[0], S', S'), 3x3,
// stride StemStride, padding 1, S' = (S - 1)/StemStride + 1. It has no time bias.
type stem struct {
	in, out dim
	stride  int
}

func newStem(c Config) *stem {
	return &stem{in: dim{c.Channels, "Channels"}, out: dim{c.Widths[0], "Widths[0]"}, stride: c.StemStride}
}

func (s *stem) params() []param {
	l := paramList{prefix: "stem.", docPrefix: "stem."}
	l.add("weight", dims(s.out, s.in, size(3), size(3)), "(out, in, kh, kw), as torch.nn.Conv2d")
	l.add("bias", dims(s.out))
	return l.list
}

func (s *stem) forward(b *builder, x, _ *G.Node) (_ *G.Node, _ saved, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	h := c.Op(ops.ConvIn(b.runs, x, b.p("stem.weight"), s.stride, 1))
	h = c.Op(ops.AddBias(h, b.p("stem.bias")))
	return h, saved{in: x}, c.Err
}

// vjp: the bias does not depend on x, so J_x^T g is the transposed convolution of g.
func (s *stem) vjp(b *builder, sv saved, g *G.Node) (*G.Node, error) {
	x := sv.in.Shape()
	return ops.ConvTIn(b.runs, g, b.p("stem.weight"), s.stride, 1, x[2], x[3])
}
