package model

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder adds the network to one Gorgonia graph, with parameter nodes bound to a Params' tensors.
type builder struct {
	cfg    Config
	g      *G.ExprGraph
	dt     tensor.Dtype
	params G.Nodes // in Specs order
	byName map[string]*G.Node
}

func newBuilder(p *Params) *builder {
	b := &builder{cfg: p.cfg, g: G.NewGraph(), dt: p.cfg.dtype(), byName: map[string]*G.Node{}}
	for i, s := range p.specs {
		n := G.NewTensor(b.g, b.dt, len(s.Shape), G.WithShape(s.Shape...), G.WithName(s.Name), G.WithValue(p.tensors[i]))
		b.params = append(b.params, n)
		b.byName[s.Name] = n
	}
	return b
}

func (b *builder) p(name string) *G.Node {
	n, ok := b.byName[name]
	if !ok {
		panic("model: internal error: no parameter " + name) // Specs and the builder disagree: a bug, not input
	}
	return n
}

// input adds an input tensor node bound to a fresh buffer.
func (b *builder) input(name string, shape ...int) (*G.Node, *tensor.Dense) {
	t := tensor.New(tensor.Of(b.dt), tensor.WithShape(shape...))
	return G.NewTensor(b.g, b.dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t)), t
}

// constant is a scalar constant of the network's dtype.
func (b *builder) constant(v float64) *G.Node {
	if b.dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// timeFeatures writes the sinusoidal embedding of level t into dst (length TimeEmbed):
// with s = 1000 t, half = TimeEmbed/2 and w_k = 10000^(-k/(half-1)) (w_0 = 1 when half = 1),
// dst[k] = sin(s w_k) and dst[half+k] = cos(s w_k).
func timeFeatures(t float64, dst []float64) {
	half := len(dst) / 2
	s := 1000 * t
	for k := 0; k < half; k++ {
		w := 1.0
		if half > 1 {
			w = math.Exp(-math.Log(10000) * float64(k) / float64(half-1))
		}
		dst[k] = math.Sin(s * w)
		dst[half+k] = math.Cos(s * w)
	}
}

// setTimes writes the time features of ts[g] into row g of the (len(ts), TimeEmbed) input tensor.
func setTimes(dst *tensor.Dense, ts []float64, scratch []float64) {
	e := len(scratch)
	for g, t := range ts {
		timeFeatures(t, scratch)
		switch d := dst.Data().(type) {
		case []float32:
			for i, v := range scratch {
				d[g*e+i] = float32(v)
			}
		case []float64:
			copy(d[g*e:(g+1)*e], scratch)
		}
	}
}

// timeMLP maps the (G, TimeEmbed) features of G levels (G = 1 but in a grouped training step) to the
// (G, TimeHidden) activations that feed every block's time bias: ops.SiLU(fc2(ops.SiLU(fc1(e)))), row by row.
func (b *builder) timeMLP(x *G.Node) (_ *G.Node, err error) {
	e := &ops.Chain{}
	defer e.Guard(&err)
	linear := func(x *G.Node, name string) *G.Node {
		return e.Op(ops.AddBias(e.Op(ops.MatMul(x, b.p(name+".weight"), false, true)), b.p(name+".bias")))
	}
	h := e.Op(ops.SiLU(linear(x, "time.fc1")))
	h = e.Op(ops.SiLU(linear(h, "time.fc2")))
	return h, e.Err
}

// blockTrace records the nodes of one block that the input-VJP needs.
type blockTrace struct {
	prefix string   // parameter name prefix
	down   bool     // a down block (else a residual block)
	h      *G.Node  // block input
	a1     *G.Node  // residual block: pre-activation after conv1 (down blocks do not need one)
	hw     [2]int   // spatial size of h
	_      struct{} // keep composite literals keyed
}

// trace records one forward pass.
type trace struct {
	x      *G.Node
	inHW   [2]int
	blocks []blockTrace
	last   *G.Node // the last block's output, before the head's SiLU
}

// forward builds phi(x; t) for x (B, C, H, W), with ts the (G, TimeHidden) time MLP output: G = 1 conditions every
// image on one level; G > 1 (B a multiple of G) gives the B/G consecutive images of group g the level of row g (each
// block's (G, C) time bias is added to its group's rows by addBias). It returns the (B, D) features.
func (b *builder) forward(x, ts *G.Node) (_ *G.Node, _ *trace, err error) {
	c := b.cfg
	tr := &trace{x: x, inHW: [2]int{x.Shape()[2], x.Shape()[3]}}
	e := &ops.Chain{}
	defer e.Guard(&err)
	timeBias := func(name string) *G.Node { return e.Op(ops.MatMul(ts, b.p(name), false, true)) }
	h := e.Op(ops.Conv(x, b.p("stem.weight"), c.StemStride, 1))
	h = e.Op(ops.AddBias(h, b.p("stem.bias")))
	for l := range c.Widths {
		for r := 0; r < c.ResBlocks; r++ {
			pre := fmt.Sprintf("levels.%d.res.%d.", l, r)
			bt := blockTrace{prefix: pre, h: h, hw: hwOf(h)}
			u1 := e.Op(ops.SiLU(h))
			c1 := e.Op(ops.Conv(u1, b.p(pre+"conv1.weight"), 1, 1))
			tb := timeBias(pre + "temb.weight")
			a1 := e.Op(ops.AddBias(c1, b.p(pre+"conv1.bias"), tb))
			u2 := e.Op(ops.SiLU(a1))
			c2 := e.Op(ops.Conv(u2, b.p(pre+"conv2.weight"), 1, 1))
			a2 := e.Op(ops.AddBias(c2, b.p(pre+"conv2.bias")))
			h = e.Op(G.Add(h, a2))
			bt.a1 = a1
			tr.blocks = append(tr.blocks, bt)
		}
		if l+1 < len(c.Widths) {
			pre := fmt.Sprintf("levels.%d.down.", l)
			bt := blockTrace{prefix: pre, down: true, h: h, hw: hwOf(h)}
			u := e.Op(ops.SiLU(h))
			cv := e.Op(ops.Conv(u, b.p(pre+"conv.weight"), 2, 1))
			tb := timeBias(pre + "temb.weight")
			a := e.Op(ops.AddBias(cv, b.p(pre+"conv.bias"), tb))
			sk := e.Op(ops.Conv(h, b.p(pre+"skip.weight"), 2, 0))
			sk = e.Op(ops.AddBias(sk, b.p(pre+"skip.bias")))
			h = e.Op(G.Add(a, sk))
			tr.blocks = append(tr.blocks, bt)
		}
	}
	tr.last = h
	u := e.Op(ops.SiLU(h))
	var flat *G.Node
	if c.Pool == "mean" {
		flat = e.Op(ops.SpatialMean(u))
	} else {
		flat = e.Op(G.Reshape(u, tensor.Shape{x.Shape()[0], c.HeadInputs()}))
	}
	phi := e.Op(ops.MatMul(flat, b.p("head.weight"), false, true))
	phi = e.Op(ops.AddBias(phi, b.p("head.bias")))
	if e.Err != nil {
		return nil, nil, fmt.Errorf("model: building the network: %w", e.Err)
	}
	return phi, tr, nil
}

func hwOf(n *G.Node) [2]int { s := n.Shape(); return [2]int{s[2], s[3]} }

// inputVJP builds the explicit input-gradient of the network: given gflat (B, F), the gradient of a scalar with
// respect to the head's input, it returns that scalar's gradient with respect to x, as ordinary forward nodes.
// Gorgonia can then differentiate the result once (the gradient penalty) without double backpropagation.
func (b *builder) inputVJP(tr *trace, gflat *G.Node) (_ *G.Node, err error) {
	c := b.cfg
	e := &ops.Chain{}
	defer e.Guard(&err)
	ls := tr.last.Shape()
	var gu *G.Node
	if c.Pool == "mean" {
		gu = e.Op(ops.SpatialSpread(gflat, ls[2], ls[3]))
	} else {
		gu = e.Op(G.Reshape(gflat, ls.Clone()))
	}
	g := e.Op(ops.SiLUBack(gu, tr.last))
	for i := len(tr.blocks) - 1; i >= 0; i-- {
		bt := tr.blocks[i]
		h, w := bt.hw[0], bt.hw[1]
		if bt.down {
			gout := g
			gu := e.Op(ops.ConvT(gout, b.p(bt.prefix+"conv.weight"), 2, 1, h, w))
			gh := e.Op(ops.SiLUBack(gu, bt.h))
			gk := e.Op(ops.ConvT(gout, b.p(bt.prefix+"skip.weight"), 2, 0, h, w))
			g = e.Op(G.Add(gh, gk))
			continue
		}
		gout := g
		gu2 := e.Op(ops.ConvT(gout, b.p(bt.prefix+"conv2.weight"), 1, 1, h, w))
		ga1 := e.Op(ops.SiLUBack(gu2, bt.a1))
		gu1 := e.Op(ops.ConvT(ga1, b.p(bt.prefix+"conv1.weight"), 1, 1, h, w))
		gh := e.Op(ops.SiLUBack(gu1, bt.h))
		g = e.Op(G.Add(gout, gh))
	}
	gx := e.Op(ops.ConvT(g, b.p("stem.weight"), c.StemStride, 1, tr.inHW[0], tr.inHW[1]))
	if e.Err != nil {
		return nil, fmt.Errorf("model: building the input gradient: %w", e.Err)
	}
	return gx, nil
}
