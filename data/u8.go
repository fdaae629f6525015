package data

import "fmt"

// U8 is the common Dataset implementation: uint8 images in CHW layout, one
// after the other in a single slice, with optional integer labels. Every loader
// returns a *U8.
type U8 struct {
	shape  Shape
	pix    []uint8
	labels []int
}

var _ Dataset = (*U8)(nil)

// NewU8 wraps pix, which holds len(pix)/shape.Size() images in CHW layout.
// labels is nil or holds one label per image. NewU8 keeps the slices without
// copying them.
func NewU8(shape Shape, pix []uint8, labels []int) (*U8, error) {
	if shape.C <= 0 || shape.H <= 0 || shape.W <= 0 {
		return nil, fmt.Errorf("data: invalid image shape %v", shape)
	}
	size := shape.Size()
	if len(pix)%size != 0 {
		return nil, fmt.Errorf("data: %d pixel bytes is not a multiple of the image size %d (%v)", len(pix), size, shape)
	}
	n := len(pix) / size
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("data: %d labels for %d images", len(labels), n)
	}
	return &U8{shape: shape, pix: pix, labels: labels}, nil
}

// Len returns the number of images.
func (d *U8) Len() int { return len(d.pix) / d.shape.Size() }

// Shape returns the shape of one image.
func (d *U8) Shape() Shape { return d.shape }

// Image copies image i into dst scaled to [-1, 1]; see Dataset.
func (d *U8) Image(i int, dst []float32) {
	src := d.Raw(i)
	if len(dst) != len(src) {
		panic(fmt.Sprintf("data: Image: dst has length %d, want %d (%v)", len(dst), len(src), d.shape))
	}
	for k, v := range src {
		dst[k] = scale[v]
	}
}

// Raw returns the bytes of image i (CHW layout), sharing memory with the
// dataset. Callers must not modify them.
func (d *U8) Raw(i int) []uint8 {
	size := d.shape.Size()
	return d.pix[i*size : (i+1)*size : (i+1)*size]
}

// Pix returns all image bytes (Len() images of Shape().Size() bytes, CHW),
// sharing memory with the dataset. Callers must not modify them.
func (d *U8) Pix() []uint8 { return d.pix }

// Labels returns one label per image for sources that have labels (CIFAR-10,
// MNIST), nil otherwise. Callers must not modify it.
func (d *U8) Labels() []int { return d.labels }

// First returns a view of the first n images (all of them if n <= 0 or
// n >= Len()), sharing memory with d.
func (d *U8) First(n int) *U8 {
	if n <= 0 || n >= d.Len() {
		return d
	}
	v := &U8{shape: d.shape, pix: d.pix[:n*d.shape.Size()]}
	if d.labels != nil {
		v.labels = d.labels[:n]
	}
	return v
}

// Subset returns a copy holding the images idx[0], idx[1], ... in that order.
// It panics if an index is out of range.
func (d *U8) Subset(idx []int) *U8 {
	size := d.shape.Size()
	v := &U8{shape: d.shape, pix: make([]uint8, 0, len(idx)*size)}
	if d.labels != nil {
		v.labels = make([]int, 0, len(idx))
	}
	for _, i := range idx {
		v.pix = append(v.pix, d.Raw(i)...)
		if d.labels != nil {
			v.labels = append(v.labels, d.labels[i])
		}
	}
	return v
}
