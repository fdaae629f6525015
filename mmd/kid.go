package mmd

import (
	"fmt"
	"math"
)

// BlockEstimate is an MMD^2 estimate averaged over disjoint blocks.
type BlockEstimate struct {
	// Mean is the average of the per-block unbiased estimates.
	Mean float64 `json:"mean"`
	// StdErr is the standard error of Mean: the sample standard deviation
	// of the block estimates divided by sqrt(number of blocks).
	StdErr float64 `json:"stderr"`
	// Blocks holds the per-block estimates.
	Blocks []float64 `json:"blocks"`
	// SizeX and SizeY are the number of points of each sample per block.
	SizeX int `json:"size_x"`
	SizeY int `json:"size_y"`
}

// BlockMMD2 splits x and y into blocks consecutive, disjoint blocks (block b
// holds points b*SizeX..(b+1)*SizeX-1 of x with SizeX = len(x)/blocks, the
// remainder is unused, and likewise for y), computes the unbiased MMD^2 on
// each pair of blocks and returns their mean and standard error. The blocks
// are independent when the points are, which makes the standard error
// honest; shuffle ordered data first. Each block needs at least two points
// of each sample, and blocks must be at least 2. Points must be finite (an
// error wrapping [ErrNonFinite] names the sample, the point and the
// coordinate).
func BlockMMD2(k Kernel, x, y Points, blocks int) (BlockEstimate, error) {
	if err := checkKernel(k); err != nil {
		return BlockEstimate{}, err
	}
	if blocks < 2 {
		return BlockEstimate{}, fmt.Errorf("mmd: block estimate: %d blocks, need at least 2 for a standard error: %w", blocks, ErrParam)
	}
	if err := checkPair(x, y, 2*blocks); err != nil {
		return BlockEstimate{}, err
	}
	bx, by := x.Len()/blocks, y.Len()/blocks
	est := BlockEstimate{Blocks: make([]float64, blocks), SizeX: bx, SizeY: by}
	for b := range blocks {
		xb := Points{Data: x.Data[b*bx*x.Dim : (b+1)*bx*x.Dim], Dim: x.Dim}
		yb := Points{Data: y.Data[b*by*y.Dim : (b+1)*by*y.Dim], Dim: y.Dim}
		v, err := MMD2Unbiased(k, xb, yb)
		if err != nil {
			return BlockEstimate{}, err
		}
		est.Blocks[b] = v
		est.Mean += v
	}
	est.Mean /= float64(blocks)
	var ss float64
	for _, v := range est.Blocks {
		ss += (v - est.Mean) * (v - est.Mean)
	}
	est.StdErr = math.Sqrt(ss/float64(blocks-1)) / math.Sqrt(float64(blocks))
	return est, nil
}

// KID returns the kernel inception distance style estimate of MMD^2 between
// two feature sets: [BlockMMD2] with the kernel (x.y/d + 1)^3 of
// [KIDKernel].
func KID(x, y Points, blocks int) (BlockEstimate, error) {
	return BlockMMD2(KIDKernel(), x, y, blocks)
}
