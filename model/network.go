package model

import (
	"fmt"
	"github.com/dmmd/dmmd/model/internal/ops"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// network is phi(x; t) as a list of blocks (see the package documentation for the formulas):
//
//	tau = time(e)                              the time MLP, on the sinusoidal features e of t
//	h   = x; h = blk(h; tau) for blk in body   the stem, then per level its residual blocks and (but the last) its
//	                                           down block
//	phi = head(h)
//
// Params stores the tensors of blocks() in order. To add a block type, write one file with its type (params,
// forward, vjp; see block.go) and its test (a call of checkBlocks, block_check_test.go), place it in newNetwork, and
// regenerate the parameter table of doc.go (DMMD_UPDATE_DOCS=1 go test ./model -run ParameterTable).
type network struct {
	time *timeMLP
	body []imageBlock
	head *head
}

func newNetwork(c Config) *network {
	n := &network{time: newTimeMLP(c), body: []imageBlock{newStem(c)}, head: newHead(c)}
	for l := range c.Widths {
		for r := 0; r < c.ResBlocks; r++ {
			n.body = append(n.body, newResBlock(c, l, r))
		}
		if l+1 < len(c.Widths) {
			n.body = append(n.body, newDownBlock(c, l))
		}
	}
	return n
}

// blocks lists every block in the order of their tensors.
func (n *network) blocks() []block {
	out := []block{n.time}
	for _, b := range n.body {
		out = append(out, b)
	}
	return append(out, n.head)
}

// params lists every tensor of the network.
func (n *network) params() []param {
	var out []param
	for _, b := range n.blocks() {
		out = append(out, b.params()...)
	}
	return out
}

// builder adds the network to one Gorgonia graph, with parameter nodes bound to a Params' tensors.
type builder struct {
	cfg    Config
	net    *network
	g      *G.ExprGraph
	dt     tensor.Dtype
	params G.Nodes // in Specs order
	byName map[string]*G.Node
	runs   *ops.Runs // counts the runs of the compiled graph (ops share work within a run)
}

func newBuilder(p *Params) *builder {
	b := &builder{cfg: p.cfg, net: newNetwork(p.cfg), g: G.NewGraph(), dt: p.cfg.dtype(), byName: map[string]*G.Node{}, runs: &ops.Runs{}}
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
		panic("model: internal error: no parameter " + name) // a block reads a tensor it did not declare: a bug
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

// timeMLP adds tau (G, TimeHidden) for the time features e (G, TimeEmbed).
func (b *builder) timeMLP(e *G.Node) (*G.Node, error) { return b.net.time.forward(b, e) }

// trace records one forward pass: what each block's vjp reads.
type trace struct {
	body []saved
	head saved
}

// forward builds phi(x; t) for x (B, C, H, W), with tau the (G, TimeHidden) time MLP output: G = 1 conditions every
// image on one level; G > 1 (B a multiple of G) gives the B/G consecutive images of group g the level of row g (each
// block's (G, C) time bias is added to its group's rows). It returns the (B, D) features.
func (b *builder) forward(x, tau *G.Node) (*G.Node, *trace, error) {
	tr := &trace{body: make([]saved, len(b.net.body))}
	h := x
	var err error
	for i, blk := range b.net.body {
		if h, tr.body[i], err = blk.forward(b, h, tau); err != nil {
			return nil, nil, fmt.Errorf("model: building the network: %w", err)
		}
	}
	phi, s, err := b.net.head.forward(b, h)
	if err != nil {
		return nil, nil, fmt.Errorf("model: building the network: %w", err)
	}
	tr.head = s
	return phi, tr, nil
}

// seed returns dirs W_head (R, F): the gradient of <dirs_r, phi> with respect to the head's pooled input, where
// inputVJP starts.
func (b *builder) seed(dirs *G.Node) (*G.Node, error) { return b.net.head.seed(b, dirs) }

// inputVJP builds the explicit input-gradient of the network: given gflat (B, F), the gradient of a scalar with
// respect to the head's input, it returns that scalar's gradient with respect to x, as ordinary forward nodes: the
// blocks' vjps in reverse order. Gorgonia can then differentiate the result once (the gradient penalty) without
// double backpropagation.
func (b *builder) inputVJP(tr *trace, gflat *G.Node) (*G.Node, error) {
	g, err := b.net.head.vjp(b, tr.head, gflat)
	for i := len(b.net.body) - 1; i >= 0 && err == nil; i-- {
		g, err = b.net.body[i].vjp(b, tr.body[i], g)
	}
	if err != nil {
		return nil, fmt.Errorf("model: building the input gradient: %w", err)
	}
	return g, nil
}
