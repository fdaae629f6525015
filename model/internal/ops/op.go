// Package ops holds the Gorgonia custom ops the network is built from, and their pure-Go kernels: convolution
// (Conv) with its input and weight adjoints (ConvT, ConvW), matrix product with transpose flags (MatMul), bias add
// shared or per group of rows (AddBias), SiLU and its derivatives (SiLU, SiLUBack), grouped row sums and row repeats
// (SumGroups, SumRows, BroadcastRows), the elementwise product (Hadamard) and the spatial mean and its adjoint
// (SpatialMean, SpatialSpread). Tensors are row-major: images (B, C, H, W), conv weights (Cout, Cin, KH, KW),
// matrices (rows, cols). Every op's symbolic derivative is built from ops of this set, so a graph made of them can
// be differentiated by Gorgonia once, to first order, with adjoints tested here against plain loops.
package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/dmmd/dmmd/model/internal/gemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The network is built from a small set of Gorgonia custom ops (see the package documentation for why).
// Every op
//   - computes in float32 or float64 with plain Go loops and the configured BLAS,
//   - owns its output buffer and reuses it on every run of the compiled graph (no per-step allocation),
//   - and, where it appears in a graph that Gorgonia differentiates, has a symbolic derivative built only from
//     ops of this set, so the first-order gradients Gorgonia assembles are exactly the adjoints tested here.

// opBase holds what every op here shares.
type opBase struct {
	out *tensor.Dense // reused output buffer
}

func (*opBase) ReturnsPtr() bool     { return false }
func (*opBase) CallsExtern() bool    { return false }
func (*opBase) OverwritesInput() int { return -1 }

// output returns the op's output buffer with the given dtype and shape, allocating only when it does not fit.
func (b *opBase) output(dt tensor.Dtype, shape ...int) *tensor.Dense {
	size := 1
	for _, s := range shape {
		size *= s
	}
	if b.out != nil && b.out.Dtype() == dt && b.out.DataSize() == size {
		if !b.out.Shape().Eq(tensor.Shape(shape)) {
			if err := b.out.Reshape(shape...); err == nil {
				return b.out
			}
		} else {
			return b.out
		}
	}
	b.out = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	return b.out
}

// hashOp hashes an op by its printed description, which names the op and all its parameters.
func hashOp(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// tt is the Gorgonia tensor type of the given rank whose dtype is the type variable a.
func tt(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// dense returns the inputs as *tensor.Dense, checking arity and that all share one float dtype.
func dense(name string, want int, inputs []G.Value) ([]*tensor.Dense, tensor.Dtype, error) {
	if len(inputs) != want {
		return nil, tensor.Dtype{}, fmt.Errorf("model: %s: got %d inputs, want %d", name, len(inputs), want)
	}
	out := make([]*tensor.Dense, want)
	var dt tensor.Dtype
	for i, v := range inputs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, dt, fmt.Errorf("model: %s: input %d is %T, want *tensor.Dense", name, i, v)
		}
		if i == 0 {
			dt = d.Dtype()
			if dt != tensor.Float32 && dt != tensor.Float64 {
				return nil, dt, fmt.Errorf("model: %s: unsupported dtype %v", name, dt)
			}
		} else if d.Dtype() != dt {
			return nil, dt, fmt.Errorf("model: %s: input %d has dtype %v, input 0 has %v", name, i, d.Dtype(), dt)
		}
		out[i] = d
	}
	return out, dt, nil
}

// shapesOf converts InferShape's arguments to shapes.
func shapesOf(name string, want int, in []G.DimSizer) ([]tensor.Shape, error) {
	if len(in) != want {
		return nil, fmt.Errorf("model: %s: got %d inputs, want %d", name, len(in), want)
	}
	out := make([]tensor.Shape, want)
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("model: %s: input %d has no shape (%T)", name, i, d)
		}
		out[i] = s
	}
	return out, nil
}

// num is the element type of a network: float32 (training and sampling) or float64 (gradient checks).
type num = gemm.Float

// data returns the backing slice of a float tensor as []T.
func data[T num](d *tensor.Dense) []T { return d.Data().([]T) }
