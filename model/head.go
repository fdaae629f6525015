package model

import (
	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// head maps the last block's output h (B, C, S, S), C = Widths[last], to the features
//
//	phi = pool(silu(h)) head.weight^T + head.bias,   (B, FeatureDim)
//
// where pool flattens (F = C S^2 inputs, C-major: index c*S^2 + i*S + j) or takes the spatial mean (F = C).
type head struct {
	out, in dim
	mean    bool
}

func newHead(c Config) *head {
	return &head{out: dim{c.FeatureDim, "FeatureDim"}, in: dim{c.HeadInputs(), "F"}, mean: c.Pool == "mean"}
}

func (hd *head) params() []param {
	l := paramList{prefix: "head.", docPrefix: "head."}
	l.add("weight", dims(hd.out, hd.in), "F = Widths[last] * S_last^2 (flatten, C-major:",
		" index c*S^2 + i*S + j) or Widths[last] (mean)")
	l.add("bias", dims(hd.out))
	return l.list
}

// forward adds phi for h; the saved input is what vjp differentiates at.
func (hd *head) forward(b *builder, h *G.Node) (_ *G.Node, _ saved, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	u := c.Op(ops.SiLU(h))
	var flat *G.Node
	if hd.mean {
		flat = c.Op(ops.SpatialMean(u))
	} else {
		flat = c.Op(G.Reshape(u, tensor.Shape{h.Shape()[0], hd.in.n}))
	}
	phi := c.Op(ops.MatMul(flat, b.p("head.weight"), false, true))
	phi = c.Op(ops.AddBias(phi, b.p("head.bias")))
	return phi, saved{in: h}, c.Err
}

// seed returns dirs head.weight, (R, F): row r is the gradient of <dirs_r, phi> with respect to the pooled features
// (R = B rows, one per image, or one per group, repeated to the images by the caller). The input-VJP of the network
// starts from it; the split lets a grouped training step multiply G rows instead of B.
func (hd *head) seed(b *builder, dirs *G.Node) (*G.Node, error) {
	return ops.MatMul(dirs, b.p("head.weight"), false, false)
}

// vjp maps gflat (B, F), the gradient with respect to the pooled features, to the gradient with respect to h:
// dsilu(h) * pool^T(gflat), with pool^T a reshape (flatten) or the spread of each value over S^2 positions (mean).
func (hd *head) vjp(b *builder, s saved, gflat *G.Node) (_ *G.Node, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	hs := s.in.Shape()
	var gu *G.Node
	if hd.mean {
		gu = c.Op(ops.SpatialSpread(gflat, hs[2], hs[3]))
	} else {
		gu = c.Op(G.Reshape(gflat, hs.Clone()))
	}
	return c.Op(ops.SiLUBack(gu, s.in)), c.Err
}
