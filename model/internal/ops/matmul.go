package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/dmmd/dmmd/model/internal/gemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// matMulOp is c = op(a) op(b) for 2-D a and b, where op transposes when tA / tB is set.
// Gorgonia's own matmul is correct to first order, but its transposes copy; this op passes the flags to GEMM.
type matMulOp struct {
	opBase
	tA, tB bool
}

func MatMul(a, b *G.Node, tA, tB bool) (*G.Node, error) {
	return G.ApplyOp(&matMulOp{tA: tA, tB: tB}, a, b)
}

func (op *matMulOp) Arity() int                { return 2 }
func (op *matMulOp) Type() hm.Type             { return hm.NewFnType(tt(2), tt(2), tt(2)) }
func (op *matMulOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *matMulOp) Hashcode() uint32          { return hashOp(op) }
func (op *matMulOp) String() string            { return fmt.Sprintf("dmmdMatMul{tA=%t,tB=%t}", op.tA, op.tB) }
func (op *matMulOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

// dims returns m, n, k of the product and checks the inner dimensions.
func (op *matMulOp) dims(a, b tensor.Shape) (m, n, k int, err error) {
	if a.Dims() != 2 || b.Dims() != 2 {
		return 0, 0, 0, fmt.Errorf("model: matmul: want 2-D operands, got %v and %v", a, b)
	}
	m, k = a[0], a[1]
	if op.tA {
		m, k = k, m
	}
	k2, n := b[0], b[1]
	if op.tB {
		k2, n = n, k2
	}
	if k != k2 {
		return 0, 0, 0, fmt.Errorf("model: matmul: inner dimensions differ: %v (t=%t) x %v (t=%t)", a, op.tA, b, op.tB)
	}
	return m, n, k, nil
}

func (op *matMulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("matmul", 2, in)
	if err != nil {
		return nil, err
	}
	m, n, _, err := op.dims(s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op *matMulOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("matmul", 2, inputs)
	if err != nil {
		return nil, err
	}
	m, n, k, err := op.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	out := op.output(dt, m, n)
	lda, ldb := in[0].Shape()[1], in[1].Shape()[1]
	if dt == tensor.Float32 {
		gemm.Do(op.tA, op.tB, m, n, k, data[float32](in[0]), lda, data[float32](in[1]), ldb, 0, data[float32](out), n)
	} else {
		gemm.Do(op.tA, op.tB, m, n, k, data[float64](in[0]), lda, data[float64](in[1]), ldb, 0, data[float64](out), n)
	}
	return out, nil
}

// SymDiff of C = op(A) op(B) with upstream G:
//
//	C = A B:      dA = G B^T,   dB = A^T G
//	C = A B^T:    dA = G B,     dB = G^T A
//	C = A^T B:    dA = B G^T,   dB = A G
//	C = A^T B^T:  dA = B^T G^T, dB = G^T A^T
func (op *matMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	a, b := inputs[0], inputs[1]
	var da, db *G.Node
	var err error
	switch {
	case !op.tA && !op.tB:
		if da, err = MatMul(grad, b, false, true); err == nil {
			db, err = MatMul(a, grad, true, false)
		}
	case !op.tA && op.tB:
		if da, err = MatMul(grad, b, false, false); err == nil {
			db, err = MatMul(grad, a, true, false)
		}
	case op.tA && !op.tB:
		if da, err = MatMul(b, grad, false, true); err == nil {
			db, err = MatMul(a, grad, false, false)
		}
	default:
		if da, err = MatMul(b, grad, true, true); err == nil {
			db, err = MatMul(grad, a, true, true)
		}
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// sumRowsOp sums the rows of a (B, F) matrix by groups: G equal groups of consecutive rows (B a multiple of G) give
// the (G, F) matrix of their column sums; G = 1 sums all rows into (1, F).
type sumRowsOp struct {
	opBase
	groups int
}

// broadcastRowsOp repeats each row of a (G, F) matrix n/G times into (n, F) (n a multiple of G): the adjoint of
// sumRowsOp. With G = 1 it repeats one row n times.
type broadcastRowsOp struct {
	opBase
	n int
}

func SumRows(x *G.Node) (*G.Node, error) { return SumGroups(x, 1) }
func SumGroups(x *G.Node, groups int) (*G.Node, error) {
	return G.ApplyOp(&sumRowsOp{groups: groups}, x)
}
func BroadcastRows(v *G.Node, n int) (*G.Node, error) {
	return G.ApplyOp(&broadcastRowsOp{n: n}, v)
}

func (op *sumRowsOp) Arity() int            { return 1 }
func (op *sumRowsOp) Type() hm.Type         { return hm.NewFnType(tt(2), tt(2)) }
func (op *sumRowsOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *sumRowsOp) Hashcode() uint32      { return hashOp(op) }
func (op *sumRowsOp) String() string {
	if op.groups == 1 {
		return "dmmdSumRows"
	}
	return fmt.Sprintf("dmmdSumRows{%d groups}", op.groups)
}
func (op *sumRowsOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op *sumRowsOp) check(s tensor.Shape) error {
	if s.Dims() != 2 {
		return fmt.Errorf("model: sumRows: want a 2-D input, got %v", s)
	}
	if op.groups < 1 || s[0]%op.groups != 0 {
		return fmt.Errorf("model: sumRows: %d rows do not split into %d equal groups", s[0], op.groups)
	}
	return nil
}
func (op *sumRowsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("sumRows", 1, in)
	if err != nil {
		return nil, err
	}
	if err := op.check(s[0]); err != nil {
		return nil, err
	}
	return tensor.Shape{op.groups, s[0][1]}, nil
}
func (op *sumRowsOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("sumRows", 1, inputs)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if err := op.check(s); err != nil {
		return nil, err
	}
	out := op.output(dt, op.groups, s[1])
	if dt == tensor.Float32 {
		sumRowsKernel(data[float32](in[0]), data[float32](out), op.groups, s[0], s[1])
	} else {
		sumRowsKernel(data[float64](in[0]), data[float64](out), op.groups, s[0], s[1])
	}
	return out, nil
}
func (op *sumRowsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := BroadcastRows(grad, inputs[0].Shape()[0])
	return G.Nodes{d}, err
}

func (op *broadcastRowsOp) Arity() int                { return 1 }
func (op *broadcastRowsOp) Type() hm.Type             { return hm.NewFnType(tt(2), tt(2)) }
func (op *broadcastRowsOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, op.String()) }
func (op *broadcastRowsOp) Hashcode() uint32          { return hashOp(op) }
func (op *broadcastRowsOp) String() string            { return fmt.Sprintf("dmmdBroadcastRows{%d}", op.n) }
func (op *broadcastRowsOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op *broadcastRowsOp) check(s tensor.Shape) error {
	if s.Dims() != 2 || s[0] < 1 || op.n%s[0] != 0 {
		return fmt.Errorf("model: broadcastRows: want a (G, F) input with G dividing %d, got %v", op.n, s)
	}
	return nil
}
func (op *broadcastRowsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("broadcastRows", 1, in)
	if err != nil {
		return nil, err
	}
	if err := op.check(s[0]); err != nil {
		return nil, err
	}
	return tensor.Shape{op.n, s[0][1]}, nil
}
func (op *broadcastRowsOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("broadcastRows", 1, inputs)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if err := op.check(s); err != nil {
		return nil, err
	}
	out := op.output(dt, op.n, s[1])
	if dt == tensor.Float32 {
		broadcastRowsKernel(data[float32](in[0]), data[float32](out), s[0], op.n)
	} else {
		broadcastRowsKernel(data[float64](in[0]), data[float64](out), s[0], op.n)
	}
	return out, nil
}
func (op *broadcastRowsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := SumGroups(grad, inputs[0].Shape()[0])
	return G.Nodes{d}, err
}
