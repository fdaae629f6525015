package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// siluOp is y = x sigmoid(x), elementwise.
type siluOp struct{ opBase }

// siluBackOp is out = g dsilu(x): the backward pass of SiLU, used inside the explicit input-VJP.
type siluBackOp struct{ opBase }

// siluBack2Op is out = a g d2silu(x): the derivative of siluBackOp with respect to x. It only ever appears in
// gradient graphs, so it has no derivative of its own.
type siluBack2Op struct{ opBase }

func SiLU(x *G.Node) (*G.Node, error)            { return G.ApplyOp(&siluOp{}, x) }
func SiLUBack(g, x *G.Node) (*G.Node, error)     { return G.ApplyOp(&siluBackOp{}, g, x) }
func siluBack2(a, g, x *G.Node) (*G.Node, error) { return G.ApplyOp(&siluBack2Op{}, a, g, x) }

// elementwise runs a same-shape elementwise kernel over the inputs.
func elementwise(b *opBase, name string, inputs []G.Value,
	k32 func(in [][]float32, out []float32), k64 func(in [][]float64, out []float64)) (G.Value, error) {
	in, dt, err := dense(name, len(inputs), inputs)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape()
	for i := 1; i < len(in); i++ {
		if !in[i].Shape().Eq(shape) {
			return nil, fmt.Errorf("model: %s: input %d has shape %v, input 0 has %v", name, i, in[i].Shape(), shape)
		}
	}
	out := b.output(dt, shape...)
	if dt == tensor.Float32 {
		s := make([][]float32, len(in))
		for i := range in {
			s[i] = data[float32](in[i])
		}
		k32(s, data[float32](out))
	} else {
		s := make([][]float64, len(in))
		for i := range in {
			s[i] = data[float64](in[i])
		}
		k64(s, data[float64](out))
	}
	return out, nil
}

func sameShape(name string, n int, in []G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(name, n, in)
	if err != nil {
		return nil, err
	}
	for i := 1; i < n; i++ {
		if !s[i].Eq(s[0]) {
			return nil, fmt.Errorf("model: %s: input %d has shape %v, input 0 has %v", name, i, s[i], s[0])
		}
	}
	return s[0].Clone(), nil
}

var tva = hm.TypeVariable('a')

func (op *siluOp) Arity() int                { return 1 }
func (op *siluOp) Type() hm.Type             { return hm.NewFnType(tva, tva) }
func (op *siluOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *siluOp) Hashcode() uint32          { return hashOp(op) }
func (op *siluOp) String() string            { return "dmmdSiLU" }
func (op *siluOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op *siluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return sameShape("silu", 1, in)
}
func (op *siluOp) Do(inputs ...G.Value) (G.Value, error) {
	return elementwise(&op.opBase, "silu", inputs,
		func(in [][]float32, out []float32) { siluKernel(in[0], out) },
		func(in [][]float64, out []float64) { siluKernel(in[0], out) })
}
func (op *siluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := SiLUBack(grad, inputs[0])
	return G.Nodes{d}, err
}

func (op *siluBackOp) Arity() int                { return 2 }
func (op *siluBackOp) Type() hm.Type             { return hm.NewFnType(tva, tva, tva) }
func (op *siluBackOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *siluBackOp) Hashcode() uint32          { return hashOp(op) }
func (op *siluBackOp) String() string            { return "dmmdSiLUBack" }
func (op *siluBackOp) DiffWRT(inputs int) []bool { return []bool{true, true} }
func (op *siluBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return sameShape("siluBack", 2, in)
}
func (op *siluBackOp) Do(inputs ...G.Value) (G.Value, error) {
	return elementwise(&op.opBase, "siluBack", inputs,
		func(in [][]float32, out []float32) { siluBackKernel(in[0], in[1], out) },
		func(in [][]float64, out []float64) { siluBackKernel(in[0], in[1], out) })
}

// SymDiff of out = g dsilu(x) with upstream U: d/dg = U dsilu(x), d/dx = U g d2silu(x).
func (op *siluBackOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, x := inputs[0], inputs[1]
	dg, err := SiLUBack(grad, x)
	if err != nil {
		return nil, err
	}
	dx, err := siluBack2(grad, g, x)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dg, dx}, nil
}

func (op *siluBack2Op) Arity() int            { return 3 }
func (op *siluBack2Op) Type() hm.Type         { return hm.NewFnType(tva, tva, tva, tva) }
func (op *siluBack2Op) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *siluBack2Op) Hashcode() uint32      { return hashOp(op) }
func (op *siluBack2Op) String() string        { return "dmmdSiLUBack2" }
func (op *siluBack2Op) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return sameShape("siluBack2", 3, in)
}
func (op *siluBack2Op) Do(inputs ...G.Value) (G.Value, error) {
	return elementwise(&op.opBase, "siluBack2", inputs,
		func(in [][]float32, out []float32) { siluBack2Kernel(in[0], in[1], in[2], out) },
		func(in [][]float64, out []float64) { siluBack2Kernel(in[0], in[1], in[2], out) })
}

// addBiasOp is y[b, c, ...] = x[b, c, ...] + sum_k bias_k[g_k(b), c]: biases added along axis 1 of a 2-D or 4-D x
// of B rows. A bias shaped (C) or (1, C) is one row shared by every b (g_k(b) = 0); a bias shaped (G, C) with G > 1
// gives each of G equal groups of rows its own: row b takes bias row g_k(b) = b / (B/G) (B must be a multiple of
// G). The grouped form carries a per-group time bias when a batch holds several noise levels.
type addBiasOp struct {
	opBase
	xDims  int
	bDims  []int
	biases int
}

// sumBiasOp sums g over every axis except 1, shaped as the bias it is the gradient of: out[c] (a (C) or (1, C)
// bias), or out[gi, c] summed over the rows of group gi only (a (G, C) bias).
type sumBiasOp struct {
	opBase
	inDims int
	shape  tensor.Shape
}

func AddBias(x *G.Node, biases ...*G.Node) (*G.Node, error) {
	op := &addBiasOp{xDims: x.Dims(), biases: len(biases)}
	for _, b := range biases {
		op.bDims = append(op.bDims, b.Dims())
	}
	return G.ApplyOp(op, append([]*G.Node{x}, biases...)...)
}

func (op *addBiasOp) Arity() int { return 1 + op.biases }
func (op *addBiasOp) Type() hm.Type {
	ts := []hm.Type{tt(op.xDims)}
	for _, d := range op.bDims {
		ts = append(ts, tt(d))
	}
	return hm.NewFnType(append(ts, tt(op.xDims))...)
}
func (op *addBiasOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *addBiasOp) Hashcode() uint32      { return hashOp(op) }
func (op *addBiasOp) String() string {
	return fmt.Sprintf("dmmdAddBias{x%dD,b%v}", op.xDims, op.bDims)
}
func (op *addBiasOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

// biasGroups returns the number of row groups of a bias for c channels and b rows: 1 for a (C) or (1, C) bias,
// G for a (G, C) bias (b a multiple of G).
func biasGroups(s tensor.Shape, b, c int) (int, error) {
	switch {
	case s.Dims() == 1 && s[0] == c:
		return 1, nil
	case s.Dims() == 2 && s[1] == c && s[0] >= 1 && b%s[0] == 0:
		return s[0], nil
	}
	return 0, fmt.Errorf("shape %v does not fit %d rows of %d channels (want (C) or (G, C), G dividing the rows)", s, b, c)
}

// biasLayout returns B, C, the size R of the trailing axes for x, and the group count of every bias; errors name
// the op.
func biasLayout(op string, x tensor.Shape, biases []tensor.Shape) (b, c, r int, groups []int, err error) {
	if x.Dims() < 2 {
		return 0, 0, 0, nil, fmt.Errorf("model: %s: want at least 2-D input, got %v", op, x)
	}
	b, c, r = x[0], x[1], 1
	for _, d := range x[2:] {
		r *= d
	}
	groups = make([]int, len(biases))
	for i, s := range biases {
		if groups[i], err = biasGroups(s, b, c); err != nil {
			return 0, 0, 0, nil, fmt.Errorf("model: %s: bias %d: %w", op, i, err)
		}
	}
	return b, c, r, groups, nil
}

func (op *addBiasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("addBias", op.Arity(), in)
	if err != nil {
		return nil, err
	}
	if _, _, _, _, err := biasLayout("addBias", s[0], s[1:]); err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op *addBiasOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("addBias", op.Arity(), inputs)
	if err != nil {
		return nil, err
	}
	bs := make([]tensor.Shape, len(in)-1)
	for i := range bs {
		bs[i] = in[i+1].Shape()
	}
	b, c, r, groups, err := biasLayout("addBias", in[0].Shape(), bs)
	if err != nil {
		return nil, err
	}
	out := op.output(dt, in[0].Shape()...)
	if dt == tensor.Float32 {
		addBiasKernel(data[float32](in[0]), data[float32](out), biasData[float32](in[1:]), groups, b, c, r)
	} else {
		addBiasKernel(data[float64](in[0]), data[float64](out), biasData[float64](in[1:]), groups, b, c, r)
	}
	return out, nil
}

func biasData[T num](ds []*tensor.Dense) [][]T {
	out := make([][]T, len(ds))
	for i, d := range ds {
		out[i] = data[T](d)
	}
	return out
}

func (op *addBiasOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	out := G.Nodes{grad}
	for _, b := range inputs[1:] {
		d, err := G.ApplyOp(&sumBiasOp{inDims: grad.Dims(), shape: b.Shape().Clone()}, grad)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (op *sumBiasOp) Arity() int            { return 1 }
func (op *sumBiasOp) Type() hm.Type         { return hm.NewFnType(tt(op.inDims), tt(op.shape.Dims())) }
func (op *sumBiasOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *sumBiasOp) Hashcode() uint32      { return hashOp(op) }
func (op *sumBiasOp) String() string {
	return fmt.Sprintf("dmmdSumBias{%dD->%v}", op.inDims, op.shape)
}

// layout returns B, C, R of the input and the group count of the output.
func (op *sumBiasOp) layout(s tensor.Shape) (b, c, r, groups int, err error) {
	b, c, r, gs, err := biasLayout("sumBias", s, []tensor.Shape{op.shape})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	return b, c, r, gs[0], nil
}

func (op *sumBiasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("sumBias", 1, in)
	if err != nil {
		return nil, err
	}
	if _, _, _, _, err := op.layout(s[0]); err != nil {
		return nil, err
	}
	return op.shape.Clone(), nil
}
func (op *sumBiasOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("sumBias", 1, inputs)
	if err != nil {
		return nil, err
	}
	b, c, r, groups, err := op.layout(in[0].Shape())
	if err != nil {
		return nil, err
	}
	out := op.output(dt, op.shape...)
	if dt == tensor.Float32 {
		sumBiasKernel(data[float32](in[0]), data[float32](out), groups, b, c, r)
	} else {
		sumBiasKernel(data[float64](in[0]), data[float64](out), groups, b, c, r)
	}
	return out, nil
}

// hadamardOp is out = a * b, elementwise, for two tensors of one shape.
type hadamardOp struct{ opBase }

func Hadamard(a, b *G.Node) (*G.Node, error) { return G.ApplyOp(&hadamardOp{}, a, b) }

func (op *hadamardOp) Arity() int                { return 2 }
func (op *hadamardOp) Type() hm.Type             { return hm.NewFnType(tva, tva, tva) }
func (op *hadamardOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *hadamardOp) Hashcode() uint32          { return hashOp(op) }
func (op *hadamardOp) String() string            { return "dmmdHadamard" }
func (op *hadamardOp) DiffWRT(inputs int) []bool { return []bool{true, true} }
func (op *hadamardOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return sameShape("hadamard", 2, in)
}
func (op *hadamardOp) Do(inputs ...G.Value) (G.Value, error) {
	return elementwise(&op.opBase, "hadamard", inputs,
		func(in [][]float32, out []float32) { hadamardKernel(in[0], in[1], out) },
		func(in [][]float64, out []float64) { hadamardKernel(in[0], in[1], out) })
}

// SymDiff of out = a * b with upstream U: d/da = U * b, d/db = U * a.
func (op *hadamardOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	da, err := Hadamard(grad, inputs[1])
	if err != nil {
		return nil, err
	}
	db, err := Hadamard(grad, inputs[0])
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// spatialMeanOp averages a (B, C, H, W) tensor over H and W into (B, C) (global average pooling; Gorgonia's own
// 4-D reductions along axes 2 and 3 are wrong, see the package documentation).
type spatialMeanOp struct{ opBase }

// spatialSpreadOp is the adjoint of spatialMeanOp: (B, C) -> (B, C, h, w), each value divided by h*w.
type spatialSpreadOp struct {
	opBase
	h, w int
}

func SpatialMean(x *G.Node) (*G.Node, error) { return G.ApplyOp(&spatialMeanOp{}, x) }
func SpatialSpread(g *G.Node, h, w int) (*G.Node, error) {
	return G.ApplyOp(&spatialSpreadOp{h: h, w: w}, g)
}

func (op *spatialMeanOp) Arity() int                { return 1 }
func (op *spatialMeanOp) Type() hm.Type             { return hm.NewFnType(tt(4), tt(2)) }
func (op *spatialMeanOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *spatialMeanOp) Hashcode() uint32          { return hashOp(op) }
func (op *spatialMeanOp) String() string            { return "dmmdSpatialMean" }
func (op *spatialMeanOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op *spatialMeanOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("spatialMean", 1, in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 4 {
		return nil, fmt.Errorf("model: spatialMean: want a 4-D input, got %v", s[0])
	}
	return tensor.Shape{s[0][0], s[0][1]}, nil
}
func (op *spatialMeanOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("spatialMean", 1, inputs)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if s.Dims() != 4 {
		return nil, fmt.Errorf("model: spatialMean: want a 4-D input, got %v", s)
	}
	out := op.output(dt, s[0], s[1])
	if dt == tensor.Float32 {
		spatialMeanKernel(data[float32](in[0]), data[float32](out), s[0]*s[1], s[2]*s[3])
	} else {
		spatialMeanKernel(data[float64](in[0]), data[float64](out), s[0]*s[1], s[2]*s[3])
	}
	return out, nil
}
func (op *spatialMeanOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := inputs[0].Shape()
	d, err := SpatialSpread(grad, s[2], s[3])
	return G.Nodes{d}, err
}

func (op *spatialSpreadOp) Arity() int            { return 1 }
func (op *spatialSpreadOp) Type() hm.Type         { return hm.NewFnType(tt(2), tt(4)) }
func (op *spatialSpreadOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *spatialSpreadOp) Hashcode() uint32      { return hashOp(op) }
func (op *spatialSpreadOp) String() string {
	return fmt.Sprintf("dmmdSpatialSpread{%dx%d}", op.h, op.w)
}
func (op *spatialSpreadOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op *spatialSpreadOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("spatialSpread", 1, in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 2 {
		return nil, fmt.Errorf("model: spatialSpread: want a 2-D input, got %v", s[0])
	}
	return tensor.Shape{s[0][0], s[0][1], op.h, op.w}, nil
}
func (op *spatialSpreadOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("spatialSpread", 1, inputs)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("model: spatialSpread: want a 2-D input, got %v", s)
	}
	out := op.output(dt, s[0], s[1], op.h, op.w)
	if dt == tensor.Float32 {
		spatialSpreadKernel(data[float32](in[0]), data[float32](out), s[0]*s[1], op.h*op.w)
	} else {
		spatialSpreadKernel(data[float64](in[0]), data[float64](out), s[0]*s[1], op.h*op.w)
	}
	return out, nil
}
func (op *spatialSpreadOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := SpatialMean(grad)
	return G.Nodes{d}, err
}
