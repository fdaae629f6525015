package ops

import (
	"errors"
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LOO is the handle of a LeaveOneOut node: the owner of the graph sets the reference embedding and the particle
// count before each run.
type LOO struct{ op *looOp }

// Set gives the next runs their reference embedding m_P (D values, read at every run, not copied) and the number
// n >= 2 of particles (rows past n are padding and get zero directions).
func (l LOO) Set(mp []float64, n int) { l.op.mp, l.op.n = mp, n }

// looOp computes the exact MMD flow's leave-one-out directions (see LeaveOneOut).
type looOp struct {
	opBase
	mp  []float64
	n   int
	sum []float64
}

// LeaveOneOut returns, for features phi (B, D), the directions dir_i = m_P - (sum_{j<n} phi_j - phi_i) / (n - 1)
// of the exact MMD flow's witness for particles i < n (zero rows past n). The sum is taken in float64 in index
// order of the features rounded to float32, and each direction rounded once to float32 (both no-ops but in a
// float64 network), exactly as sample.Flow computes
// them from separately computed features and hands them to the critic, so a graph with this op reproduces that
// flow bit for bit. The directions are constants of the
// witness gradient (the flow's cotangents): the op has no derivative.
func LeaveOneOut(phi *G.Node) (*G.Node, LOO, error) {
	op := &looOp{}
	n, err := G.ApplyOp(op, phi)
	return n, LOO{op}, err
}

func (op *looOp) Arity() int                { return 1 }
func (op *looOp) Type() hm.Type             { return hm.NewFnType(tt(2), tt(2)) }
func (op *looOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "dmmdLeaveOneOut%p", op) }
func (op *looOp) Hashcode() uint32          { return hashOp(op) }
func (op *looOp) String() string            { return "dmmdLeaveOneOut" }
func (op *looOp) DiffWRT(inputs int) []bool { return []bool{false} }

func (op *looOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.New("model: leave-one-out directions are constants of the witness gradient: no derivative")
}

func (op *looOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf("leaveOneOut", 1, in)
	if err != nil {
		return nil, err
	}
	if s[0].Dims() != 2 {
		return nil, fmt.Errorf("model: leaveOneOut: want 2-D features, got %v", s[0])
	}
	return s[0].Clone(), nil
}

func (op *looOp) Do(inputs ...G.Value) (G.Value, error) {
	in, dt, err := dense("leaveOneOut", 1, inputs)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	rows, d := s[0], s[1]
	if op.n < 2 || op.n > rows || len(op.mp) != d {
		return nil, fmt.Errorf("model: leaveOneOut: %d particles of %d rows and %d reference values for %d features "+
			"(want 2 <= n <= rows and one value per feature)", op.n, rows, len(op.mp), d)
	}
	out := op.output(dt, rows, d)
	if cap(op.sum) < d {
		op.sum = make([]float64, d)
	}
	if dt == tensor.Float32 {
		looKernel(data[float32](in[0]), data[float32](out), op.mp, op.sum[:d], op.n)
	} else {
		looKernel(data[float64](in[0]), data[float64](out), op.mp, op.sum[:d], op.n)
	}
	return out, nil
}

func looKernel[T num](phi, out []T, mp, sum []float64, n int) {
	d := len(mp)
	clear(sum)
	for i := 0; i < n; i++ {
		for j, v := range phi[i*d : (i+1)*d] {
			sum[j] += float64(float32(v))
		}
	}
	inv := 1 / float64(n-1)
	for i := 0; i < n; i++ {
		row, dst := phi[i*d:(i+1)*d], out[i*d:(i+1)*d]
		for j := range dst {
			dst[j] = T(float32(mp[j] - (sum[j]-float64(float32(row[j])))*inv))
		}
	}
	clear(out[n*d:])
}
