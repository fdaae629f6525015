package mmd

import (
	"fmt"
	"math"
)

// Points is a set of points in R^Dim stored row-major: point i is
// Data[i*Dim : (i+1)*Dim]. The zero value is an empty set.
type Points struct {
	Data []float64
	Dim  int
}

// NewPoints returns n zero points in R^dim.
func NewPoints(n, dim int) (Points, error) {
	if n < 0 || dim <= 0 {
		return Points{}, fmt.Errorf("mmd: NewPoints(%d, %d): need n >= 0 and dim > 0: %w", n, dim, ErrParam)
	}
	return Points{Data: make([]float64, n*dim), Dim: dim}, nil
}

// PointsFromRows copies rows, which must all have the same positive length,
// into a Points value.
func PointsFromRows(rows [][]float64) (Points, error) {
	if len(rows) == 0 {
		return Points{}, fmt.Errorf("mmd: PointsFromRows: no rows: %w", ErrEmpty)
	}
	d := len(rows[0])
	if d == 0 {
		return Points{}, fmt.Errorf("mmd: PointsFromRows: row 0 is empty: %w", ErrDim)
	}
	p := Points{Data: make([]float64, 0, len(rows)*d), Dim: d}
	for i, r := range rows {
		if len(r) != d {
			return Points{}, fmt.Errorf("mmd: PointsFromRows: row %d has length %d, row 0 has %d: %w", i, len(r), d, ErrDim)
		}
		p.Data = append(p.Data, r...)
	}
	return p, nil
}

// Len returns the number of points.
func (p Points) Len() int {
	if p.Dim <= 0 {
		return 0
	}
	return len(p.Data) / p.Dim
}

// Row returns point i as a slice sharing p's storage.
func (p Points) Row(i int) []float64 { return p.Data[i*p.Dim : (i+1)*p.Dim : (i+1)*p.Dim] }

// Rows returns the points as row slices sharing p's storage.
func (p Points) Rows() [][]float64 {
	rows := make([][]float64, p.Len())
	for i := range rows {
		rows[i] = p.Row(i)
	}
	return rows
}

// Clone returns a deep copy of p.
func (p Points) Clone() Points {
	return Points{Data: append([]float64(nil), p.Data...), Dim: p.Dim}
}

// check reports whether p is a well-formed set of at least min finite points;
// name is used in the error message.
func (p Points) check(name string, min int) error {
	if p.Dim <= 0 {
		if len(p.Data) == 0 && min > 0 {
			return fmt.Errorf("mmd: %s is empty: %w", name, ErrEmpty)
		}
		return fmt.Errorf("mmd: %s has dimension %d: %w", name, p.Dim, ErrDim)
	}
	if len(p.Data)%p.Dim != 0 {
		return fmt.Errorf("mmd: %s: %d values is not a multiple of dimension %d: %w", name, len(p.Data), p.Dim, ErrDim)
	}
	if n := p.Len(); n < min {
		return fmt.Errorf("mmd: %s has %d points, need at least %d: %w", name, n, min, ErrEmpty)
	}
	for i, v := range p.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("mmd: %s: point %d, coordinate %d is %v: %w", name, i/p.Dim, i%p.Dim, v, ErrNonFinite)
		}
	}
	return nil
}

// checkPair validates two sample sets and that their dimensions agree.
func checkPair(x, y Points, min int) error {
	if err := x.check("first sample (x)", min); err != nil {
		return err
	}
	if err := y.check("second sample (y)", min); err != nil {
		return err
	}
	if x.Dim != y.Dim {
		return fmt.Errorf("mmd: samples have dimensions %d and %d: %w", x.Dim, y.Dim, ErrDim)
	}
	return nil
}
