// Package data defines the in-memory image datasets that the trainer and the
// sampler read, and the seeded, resumable batch sampler that feeds them.
//
// Images are stored as uint8 in channel-first (CHW) layout and converted to
// float32 in [-1, 1] (x = v/127.5 - 1) only when a batch is assembled. The
// loaders for the concrete formats live in the sub-packages data/cifar,
// data/celeba, data/mnist and data/imagefolder; data/datasets is the single
// entry point that knows them all.
package data

import "fmt"

// Shape is the shape of one image, channel-first.
type Shape struct{ C, H, W int }

// Size returns the number of values in one image, C*H*W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String formats the shape as CxHxW.
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Dataset is an in-memory image dataset.
type Dataset interface {
	// Len is the number of images.
	Len() int
	// Shape is the shape of every image.
	Shape() Shape
	// Image copies image i into dst (len Shape().Size(), CHW layout,
	// row-major), scaled to [-1, 1] as x = v/127.5 - 1 for the 8-bit value v.
	// It never allocates. It panics if i is out of range or dst has the wrong
	// length, as a slice index would.
	Image(i int, dst []float32)
}

// scale maps an 8-bit value v to v/127.5 - 1, computed in float64 and rounded
// once to float32, so that 0 -> -1 and 255 -> 1 exactly.
var scale [256]float32

func init() {
	for v := range scale {
		scale[v] = float32(float64(v)/127.5 - 1)
	}
}

// Scale returns v/127.5 - 1 as stored in the conversion table that Image uses.
func Scale(v uint8) float32 { return scale[v] }
