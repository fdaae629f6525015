package model

import (
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
)

// A block is one unit of phi(x; t) (see network.go for the list). Each block type lives in one file that holds
// everything about it: the parameter tensors it declares (names, shapes and their documentation), the graph of its
// forward pass and, on the image path, the hand-written graph of its input-VJP. Config.Specs, the builder and the
// parameter table of the package documentation all read the blocks, so they cannot disagree.
type block interface {
	// params lists the block's tensors in the order Params stores them.
	params() []param
}

// imageBlock is a block on the image path: h (B, C, H, W) -> h' (B, C', H', W'), conditioned on the (G, TimeHidden)
// time features tau (G = 1, or one row per group of B/G consecutive images).
type imageBlock interface {
	block
	// forward adds h' = f(h; tau) to the graph and returns it with what vjp needs from this pass.
	forward(b *builder, h, tau *G.Node) (*G.Node, saved, error)
	// vjp adds J_h^T g, the gradient with respect to h of <g, f(h; tau)> for g shaped like h', as ordinary forward
	// nodes (so that Gorgonia differentiates it once, for the gradient penalty, and never twice).
	vjp(b *builder, s saved, g *G.Node) (*G.Node, error)
}

// saved holds the nodes of one forward pass of a block that its vjp reads.
type saved struct {
	in   *G.Node   // the block input h
	keep []*G.Node // any further nodes, in an order the block defines (a residual block: its pre-activation a1)
}

// dim is one axis of a parameter shape: its size in this configuration and the symbol the documentation uses for it
// (a Config field such as TimeHidden, or a letter the block's note defines).
type dim struct {
	n   int
	sym string
}

// size is an axis of a fixed size (a kernel side), written as its value.
func size(n int) dim { return dim{n, strconv.Itoa(n)} }

// param declares one parameter tensor of a block.
type param struct {
	name  string   // the full name, as in a PyTorch state_dict (levels.0.res.1.conv1.weight)
	doc   string   // the name with the block's indices as letters, for the documentation (levels.L.res.R.conv1.weight)
	shape []dim    // row-major (C order)
	note  []string // documentation lines after the shape, or none
}

// spec is the name and shape of the tensor in this configuration.
func (p param) spec() ParamSpec {
	s := ParamSpec{Name: p.name, Shape: make([]int, len(p.shape))}
	for i, d := range p.shape {
		s.Shape[i] = d.n
	}
	return s
}

// docShape is the shape in symbols: (W', W, 3, 3).
func (p param) docShape() string {
	syms := make([]string, len(p.shape))
	for i, d := range p.shape {
		syms[i] = d.sym
	}
	return "(" + strings.Join(syms, ", ") + ")"
}

// paramList collects the tensors of one block under a name prefix (its concrete and documented forms).
type paramList struct {
	prefix, docPrefix string
	list              []param
}

// add declares the tensor prefix+name with the given shape; note lines document it in the parameter table.
func (l *paramList) add(name string, shape []dim, note ...string) {
	l.list = append(l.list, param{name: l.prefix + name, doc: l.docPrefix + name, shape: shape, note: note})
}

// dims lists the axes of a shape.
func dims(d ...dim) []dim { return d }

// timeBias adds the per-channel time bias of a block: tau W^T for tau (G, TimeHidden) and the named (C, TimeHidden)
// weight, giving (G, C), row g the bias of group g's images.
func timeBias(b *builder, tau *G.Node, weight string) (*G.Node, error) {
	return ops.MatMul(tau, b.p(weight), false, true)
}
