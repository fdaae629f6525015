package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convOp is y = conv2d(x, w): x (B, Cin, H, W), w (Cout, Cin, KH, KW), square stride and zero padding, no bias.
type convOp struct {
	opBase
	stride, pad int
	s32         convScratch[float32]
	s64         convScratch[float64]
	share       *colsShare // shared with the ConvW of the same input (nil: no sharing)
}

// convTOp is the input-gradient (transposed convolution) of convOp: dx = J_x^T g for g (B, Cout, Ho, Wo) and
// w (Cout, Cin, KH, KW), with dx of shape (B, Cin, h, w). The input size (h, w) is a parameter because a strided
// convolution maps several input sizes to the same output size.
type convTOp struct {
	opBase
	stride, pad, h, w int
	s32               convScratch[float32]
	s64               convScratch[float64]
	runs              *Runs // the graph's run counter, for the ops of its derivative (nil: no sharing)
}

// convWOp is the weight-gradient of convOp: dw = J_w^T g for input x (B, Cin, H, W) and g (B, Cout, Ho, Wo),
// with dw of shape (Cout, Cin, kh, kw).
type convWOp struct {
	opBase
	stride, pad, kh, kw int
	s32                 convScratch[float32]
	s64                 convScratch[float64]
	share               *colsShare // shared with the Conv of the same input (nil: no sharing)
}

// Conv is y = conv2d(x, w) (see convOp), without sharing work with other ops.
func Conv(x, w *G.Node, stride, pad int) (*G.Node, error) {
	return G.ApplyOp(&convOp{stride: stride, pad: pad}, x, w)
}

// ConvIn is Conv in a graph whose runs are counted by r (see Runs): the convolution and the weight gradient
// Gorgonia derives from it compute the patch matrix of x once per run, and so do the pairs of convolutions of one
// input that its derivatives create.
func ConvIn(r *Runs, x, w *G.Node, stride, pad int) (*G.Node, error) {
	return G.ApplyOp(&convOp{stride: stride, pad: pad, share: r.newShare()}, x, w)
}

func ConvT(g, w *G.Node, stride, pad, h, wd int) (*G.Node, error) {
	return G.ApplyOp(&convTOp{stride: stride, pad: pad, h: h, w: wd}, g, w)
}

// ConvTIn is ConvT in a graph whose runs are counted by r: the pair of ops of its derivative (a convolution of
// the upstream gradient and a weight gradient of it) compute that gradient's patch matrix once per run.
func ConvTIn(r *Runs, g, w *G.Node, stride, pad, h, wd int) (*G.Node, error) {
	return convT(r, g, w, stride, pad, h, wd)
}

func ConvW(x, g *G.Node, stride, pad, kh, kw int) (*G.Node, error) {
	return convW(nil, x, g, stride, pad, kh, kw)
}

func convW(sh *colsShare, x, g *G.Node, stride, pad, kh, kw int) (*G.Node, error) {
	return G.ApplyOp(&convWOp{stride: stride, pad: pad, kh: kh, kw: kw, share: sh}, x, g)
}

func conv(sh *colsShare, x, w *G.Node, stride, pad int) (*G.Node, error) {
	return G.ApplyOp(&convOp{stride: stride, pad: pad, share: sh}, x, w)
}

func convT(r *Runs, g, w *G.Node, stride, pad, h, wd int) (*G.Node, error) {
	return G.ApplyOp(&convTOp{stride: stride, pad: pad, h: h, w: wd, runs: r}, g, w)
}

// --- convOp

func (op *convOp) Arity() int                { return 2 }
func (op *convOp) Type() hm.Type             { return hm.NewFnType(tt(4), tt(4), tt(4)) }
func (op *convOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *convOp) Hashcode() uint32          { return hashOp(op) }
func (op *convOp) String() string            { return fmt.Sprintf("dmmdConv{s=%d,p=%d}", op.stride, op.pad) }
func (op *convOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

func (op *convOp) geom(x, w tensor.Shape) (convGeom, error) {
	if x.Dims() != 4 || w.Dims() != 4 {
		return convGeom{}, fmt.Errorf("model: conv: want 4-D input and weights, got %v and %v", x, w)
	}
	if x[1] != w[1] {
		return convGeom{}, fmt.Errorf("model: conv: input has %d channels, weights expect %d", x[1], w[1])
	}
	g := newConvGeom(x[0], x[1], x[2], x[3], w[0], w[2], w[3], op.stride, op.pad)
	if g.Ho < 1 || g.Wo < 1 {
		return g, fmt.Errorf("model: conv: input %v too small for kernel %v", x, w)
	}
	return g, nil
}

func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("conv", 2, in)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{g.B, g.Cout, g.Ho, g.Wo}, nil
}

func (op *convOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("conv", 2, inputs)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	out := op.output(dt, g.B, g.Cout, g.Ho, g.Wo)
	if dt == tensor.Float32 {
		convForward(&g, data[float32](in[0]), data[float32](in[1]), data[float32](out), &op.s32, op.share)
	} else {
		convForward(&g, data[float64](in[0]), data[float64](in[1]), data[float64](out), &op.s64, op.share)
	}
	return out, nil
}

func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	dx, err := convT(op.share.runsOf(), grad, w, op.stride, op.pad, x.Shape()[2], x.Shape()[3])
	if err != nil {
		return nil, err
	}
	dw, err := convW(op.share, x, grad, op.stride, op.pad, w.Shape()[2], w.Shape()[3])
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// --- convTOp

func (op *convTOp) Arity() int    { return 2 }
func (op *convTOp) Type() hm.Type { return hm.NewFnType(tt(4), tt(4), tt(4)) }
func (op *convTOp) WriteHash(h hash.Hash) {
	fmt.Fprint(h, op.String())
}
func (op *convTOp) Hashcode() uint32 { return hashOp(op) }
func (op *convTOp) String() string {
	return fmt.Sprintf("dmmdConvT{s=%d,p=%d,out=%dx%d}", op.stride, op.pad, op.h, op.w)
}
func (op *convTOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

func (op *convTOp) geom(gs, w tensor.Shape) (convGeom, error) {
	if gs.Dims() != 4 || w.Dims() != 4 {
		return convGeom{}, fmt.Errorf("model: convT: want 4-D gradient and weights, got %v and %v", gs, w)
	}
	g := newConvGeom(gs[0], w[1], op.h, op.w, w[0], w[2], w[3], op.stride, op.pad)
	if gs[1] != w[0] || gs[2] != g.Ho || gs[3] != g.Wo {
		return g, fmt.Errorf("model: convT: gradient %v does not match weights %v and input size %dx%d", gs, w, op.h, op.w)
	}
	return g, nil
}

func (op *convTOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("convT", 2, in)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{g.B, g.Cin, g.H, g.W}, nil
}

func (op *convTOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("convT", 2, inputs)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	out := op.output(dt, g.B, g.Cin, g.H, g.W)
	if dt == tensor.Float32 {
		convInputGrad(&g, data[float32](in[0]), data[float32](in[1]), data[float32](out), &op.s32)
	} else {
		convInputGrad(&g, data[float64](in[0]), data[float64](in[1]), data[float64](out), &op.s64)
	}
	return out, nil
}

// SymDiff: ConvT(g, w) = J_x(w)^T g is linear in g and in w. With upstream G (shaped like the convolution input),
// <G, J^T g> = <J G, g>, so d/dg = Conv(G, w) and d/dw = ConvW(G, g).
func (op *convTOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, w := inputs[0], inputs[1]
	sh := op.runs.newShare() // both read the patches of grad
	dg, err := conv(sh, grad, w, op.stride, op.pad)
	if err != nil {
		return nil, err
	}
	dw, err := convW(sh, grad, g, op.stride, op.pad, w.Shape()[2], w.Shape()[3])
	if err != nil {
		return nil, err
	}
	return G.Nodes{dg, dw}, nil
}

// --- convWOp

func (op *convWOp) Arity() int    { return 2 }
func (op *convWOp) Type() hm.Type { return hm.NewFnType(tt(4), tt(4), tt(4)) }
func (op *convWOp) WriteHash(h hash.Hash) {
	fmt.Fprint(h, op.String())
}
func (op *convWOp) Hashcode() uint32 { return hashOp(op) }
func (op *convWOp) String() string {
	return fmt.Sprintf("dmmdConvW{s=%d,p=%d,k=%dx%d}", op.stride, op.pad, op.kh, op.kw)
}
func (op *convWOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

func (op *convWOp) geom(x, gs tensor.Shape) (convGeom, error) {
	if x.Dims() != 4 || gs.Dims() != 4 {
		return convGeom{}, fmt.Errorf("model: convW: want 4-D input and gradient, got %v and %v", x, gs)
	}
	g := newConvGeom(x[0], x[1], x[2], x[3], gs[1], op.kh, op.kw, op.stride, op.pad)
	if gs[0] != x[0] || gs[2] != g.Ho || gs[3] != g.Wo {
		return g, fmt.Errorf("model: convW: gradient %v does not match input %v", gs, x)
	}
	return g, nil
}

func (op *convWOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("convW", 2, in)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{g.Cout, g.Cin, g.KH, g.KW}, nil
}

func (op *convWOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("convW", 2, inputs)
	if err != nil {
		return nil, err
	}
	g, err := op.geom(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	out := op.output(dt, g.Cout, g.Cin, g.KH, g.KW)
	if dt == tensor.Float32 {
		convWeightGrad(&g, data[float32](in[0]), data[float32](in[1]), data[float32](out), &op.s32, op.share)
	} else {
		convWeightGrad(&g, data[float64](in[0]), data[float64](in[1]), data[float64](out), &op.s64, op.share)
	}
	return out, nil
}

// SymDiff: ConvW(x, g) is bilinear with <G, ConvW(x, g)> = <Conv(x, G), g> = <x, ConvT(g, G)>.
func (op *convWOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, g := inputs[0], inputs[1]
	r := op.share.runsOf()
	dx, err := convT(r, g, grad, op.stride, op.pad, x.Shape()[2], x.Shape()[3])
	if err != nil {
		return nil, err
	}
	dg, err := conv(r.newShare(), x, grad, op.stride, op.pad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg}, nil
}
