package mmd

import "fmt"

// Witness is the empirical witness function of a target sample (data,
// y_1..y_M ~ P) against a current sample (particles, x_1..x_N ~ Q):
//
//	f(z) = (1/M) sum_j k(y_j, z) - (1/N) sum_i k(x_i, z).
//
// It is the (unnormalised) function that best tells P from Q in the RKHS;
// f is large where the data are denser than the particles. A Witness keeps
// references to both samples: later changes to their values are seen by
// later calls.
type Witness struct {
	k               Kernel
	target, current Points
}

// NewWitness returns the witness of target against current under kernel k.
// Both samples need at least one point, the same dimension and finite
// coordinates (an error wrapping [ErrNonFinite] names the offending point).
func NewWitness(k Kernel, target, current Points) (*Witness, error) {
	if err := checkKernel(k); err != nil {
		return nil, err
	}
	if err := target.check("target", 1); err != nil {
		return nil, err
	}
	if err := current.check("current sample", 1); err != nil {
		return nil, err
	}
	if target.Dim != current.Dim {
		return nil, fmt.Errorf("mmd: target has dimension %d, current sample %d: %w", target.Dim, current.Dim, ErrDim)
	}
	return &Witness{k: k, target: target, current: current}, nil
}

// Dim returns the dimension of the space the witness is defined on.
func (w *Witness) Dim() int { return w.target.Dim }

func (w *Witness) checkPoint(z []float64) error {
	if len(z) != w.target.Dim {
		return fmt.Errorf("mmd: witness point has dimension %d, want %d: %w", len(z), w.target.Dim, ErrDim)
	}
	return nil
}

// Value returns f(z).
func (w *Witness) Value(z []float64) (float64, error) {
	if err := w.checkPoint(z); err != nil {
		return 0, err
	}
	return w.value(z), nil
}

func (w *Witness) value(z []float64) float64 {
	var a, b float64
	for j := range w.target.Len() {
		a += w.k.Eval(w.target.Row(j), z)
	}
	for i := range w.current.Len() {
		b += w.k.Eval(w.current.Row(i), z)
	}
	return a/float64(w.target.Len()) - b/float64(w.current.Len())
}

// Grad writes grad f(z) into dst.
func (w *Witness) Grad(dst, z []float64) error {
	if err := w.checkPoint(z); err != nil {
		return err
	}
	if len(dst) != len(z) {
		return fmt.Errorf("mmd: witness gradient buffer has length %d, want %d: %w", len(dst), len(z), ErrDim)
	}
	w.grad(dst, z)
	return nil
}

func (w *Witness) grad(dst, z []float64) {
	clear(dst)
	a := 1 / float64(w.target.Len())
	for j := range w.target.Len() {
		w.k.AddGrad(dst, a, z, w.target.Row(j))
	}
	b := -1 / float64(w.current.Len())
	for i := range w.current.Len() {
		w.k.AddGrad(dst, b, z, w.current.Row(i))
	}
}

func (w *Witness) checkPoints(z Points) error {
	if err := z.check("witness points", 0); err != nil {
		return err
	}
	if z.Dim != w.target.Dim {
		return fmt.Errorf("mmd: witness points have dimension %d, want %d: %w", z.Dim, w.target.Dim, ErrDim)
	}
	return nil
}

func (w *Witness) block() int { return rowBlock(w.target.Len()+w.current.Len(), w.target.Dim) }

// Values returns f at every point of z, computed in parallel.
func (w *Witness) Values(z Points) ([]float64, error) {
	if err := w.checkPoints(z); err != nil {
		return nil, err
	}
	out := make([]float64, z.Len())
	parallelFor(z.Len(), w.block(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = w.value(z.Row(i))
		}
	})
	return out, nil
}

// Grads returns grad f at every point of z, computed in parallel. For radial
// kernels (Gaussian, IMQ, mixed RQ without the linear term) in dimension 8
// or more it goes through matrix products, which is several times faster and
// agrees with [Witness.Grad] to rounding error.
func (w *Witness) Grads(z Points) (Points, error) {
	if err := w.checkPoints(z); err != nil {
		return Points{}, err
	}
	out := Points{Data: make([]float64, len(z.Data)), Dim: z.Dim}
	w.grads(out, z)
	return out, nil
}

func (w *Witness) grads(dst, z Points) {
	if rk, ok := w.k.(radialKernel); ok && z.Dim >= gemmMinDim {
		if prof, ok := rk.radial(); ok {
			w.gradsRadial(dst, z, prof)
			return
		}
	}
	parallelFor(z.Len(), w.block(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			w.grad(dst.Row(i), z.Row(i))
		}
	})
}
