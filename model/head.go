package model

import (
	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// head maps the last block's output h (B, C, S, S), C = Widths[last], to the features. With HeadHidden = 0 (every
// preset) it is one linear layer,
//
//	phi = pool(silu(h)) head.weight^T + head.bias,   (B, FeatureDim)
//
// and with HeadHidden = H > 0 a two-layer MLP with a SiLU between,
//
//	phi = silu(pool(silu(h)) head.hidden.weight^T + head.hidden.bias) head.weight^T + head.bias,
//
// where pool flattens (F = C S^2 inputs, C-major: index c*S^2 + i*S + j) or takes the spatial mean (F = C). The
// linear head makes the witness <phi(x), c> a sum over the S^2 positions of functions of each position's receptive
// field (the sum of local functions of docs/quality.md); the hidden layer mixes positions nonlinearly.
type head struct {
	out, in, hidden dim
	mean            bool
}

func newHead(c Config) *head {
	return &head{out: dim{c.FeatureDim, "FeatureDim"}, in: dim{c.HeadInputs(), "F"},
		hidden: dim{c.HeadHidden, "HeadHidden"}, mean: c.Pool == "mean"}
}

const headNote1, headNote2 = "F = Widths[last] * S_last^2 (flatten, C-major:", " index c*S^2 + i*S + j) or Widths[last] (mean)"

func (hd *head) params() []param {
	l := paramList{prefix: "head.", docPrefix: "head."}
	if hd.hidden.n > 0 {
		l.add("hidden.weight", dims(hd.hidden, hd.in), headNote1, headNote2, "only with HeadHidden > 0")
		l.add("hidden.bias", dims(hd.hidden))
		l.add("weight", dims(hd.out, hd.hidden), "(FeatureDim, F) when HeadHidden = 0")
	} else {
		l.add("weight", dims(hd.out, hd.in), headNote1, headNote2)
	}
	l.add("bias", dims(hd.out))
	return l.list
}

// forward adds phi for h; the saved input is what vjp differentiates at (and, with a hidden layer, its
// pre-activation).
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
	s := saved{in: h}
	if hd.hidden.n > 0 {
		pre := c.Op(ops.MatMul(flat, b.p("head.hidden.weight"), false, true))
		pre = c.Op(ops.AddBias(pre, b.p("head.hidden.bias")))
		s.keep = []*G.Node{pre}
		flat = c.Op(ops.SiLU(pre))
	}
	phi := c.Op(ops.MatMul(flat, b.p("head.weight"), false, true))
	phi = c.Op(ops.AddBias(phi, b.p("head.bias")))
	return phi, s, c.Err
}

// seed returns dirs head.weight, (R, K): row r is the gradient of <dirs_r, phi> with respect to the input of the last
// linear layer (K = F, the pooled features, or HeadHidden, the hidden activations), which does not depend on the
// image (R = B rows, one per image, or one per group, repeated to the images by the caller). The input-VJP of the
// network starts from it; the split lets a grouped training step multiply G rows instead of B.
func (hd *head) seed(b *builder, dirs *G.Node) (*G.Node, error) {
	return ops.MatMul(dirs, b.p("head.weight"), false, false)
}

// vjp maps g (B, K), the gradient with respect to the last linear layer's input, to the gradient with respect to h:
// with a hidden layer first gflat = (dsilu(pre) * g) head.hidden.weight, then dsilu(h) * pool^T(gflat), with
// pool^T a reshape (flatten) or the spread of each value over S^2 positions (mean).
func (hd *head) vjp(b *builder, s saved, g *G.Node) (_ *G.Node, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	gflat := g
	if hd.hidden.n > 0 {
		gpre := c.Op(ops.SiLUBack(g, s.keep[0]))
		gflat = c.Op(ops.MatMul(gpre, b.p("head.hidden.weight"), false, false))
	}
	hs := s.in.Shape()
	var gu *G.Node
	if hd.mean {
		gu = c.Op(ops.SpatialSpread(gflat, hs[2], hs[3]))
	} else {
		gu = c.Op(G.Reshape(gflat, hs.Clone()))
	}
	return c.Op(ops.SiLUBack(gu, s.in)), c.Err
}
