package mmd

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by the errors this package returns; test for them
// with errors.Is.
var (
	// ErrDim reports points of different dimensions, or a buffer of the
	// wrong length.
	ErrDim = errors.New("dimension mismatch")
	// ErrEmpty reports a sample set with too few points for the estimator.
	ErrEmpty = errors.New("too few points")
	// ErrParam reports an invalid kernel, schedule or flow parameter.
	ErrParam = errors.New("invalid parameter")
	// ErrNonFinite reports a NaN or an infinity in a sample set; the
	// message names the set, the point and the coordinate.
	ErrNonFinite = errors.New("not finite")
)

var errNilKernel = fmt.Errorf("mmd: nil kernel: %w", ErrParam)
