package data

import "fmt"

// Batch fills dst (len b*ds.Shape().Size()) with the next b examples drawn
// from s, each scaled to [-1, 1] and mirrored left-right when the sampler says
// so. It never allocates. It panics if dst has the wrong length or if s was
// made for a different number of images than ds holds.
func Batch(ds Dataset, s *Sampler, dst []float32, b int) {
	shape := ds.Shape()
	size := shape.Size()
	if len(dst) != b*size {
		panic(fmt.Sprintf("data: Batch: dst has length %d, want %d = %d x %v", len(dst), b*size, b, shape))
	}
	if s.N() != ds.Len() {
		panic(fmt.Sprintf("data: Batch: sampler is for %d images, dataset has %d", s.N(), ds.Len()))
	}
	for k := 0; k < b; k++ {
		img := dst[k*size : (k+1)*size]
		i, flip := s.Next()
		ds.Image(i, img)
		if flip {
			FlipH(img, shape)
		}
	}
}

// FlipH mirrors the CHW image img (len shape.Size()) left-right in place.
func FlipH(img []float32, shape Shape) {
	w := shape.W
	for r := 0; r+w <= len(img); r += w {
		row := img[r : r+w]
		for a, z := 0, w-1; a < z; a, z = a+1, z-1 {
			row[a], row[z] = row[z], row[a]
		}
	}
}
