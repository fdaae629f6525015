package data

import (
	"slices"
	"testing"
)

func TestFlipH(t *testing.T) {
	img := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	FlipH(img, Shape{2, 2, 3})
	want := []float32{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}
	if !slices.Equal(img, want) {
		t.Fatalf("FlipH = %v, want %v", img, want)
	}
}

func TestBatch(t *testing.T) {
	shape := Shape{3, 4, 5}
	ds := seq(t, shape, 23, false)
	const b = 8
	s := NewSampler(ds.Len(), 42, true)
	ref := NewSampler(ds.Len(), 42, true)
	dst := make([]float32, b*shape.Size())
	flipped := 0
	for step := 0; step < 7; step++ { // crosses epoch boundaries (23 images)
		Batch(ds, s, dst, b)
		for k := 0; k < b; k++ {
			i, flip := ref.Next()
			got := dst[k*shape.Size() : (k+1)*shape.Size()]
			// Check against the raw bytes directly, mirroring by index.
			raw := ds.Raw(i)
			for c := 0; c < shape.C; c++ {
				for y := 0; y < shape.H; y++ {
					for x := 0; x < shape.W; x++ {
						sx := x
						if flip {
							sx = shape.W - 1 - x
						}
						v := raw[(c*shape.H+y)*shape.W+sx]
						if g := got[(c*shape.H+y)*shape.W+x]; g != Scale(v) {
							t.Fatalf("step %d slot %d (image %d, flip %v) c%d y%d x%d = %v, want %v", step, k, i, flip, c, y, x, g, Scale(v))
						}
					}
				}
			}
			if flip {
				flipped++
			}
		}
	}
	if flipped == 0 || flipped == 7*b {
		t.Fatalf("%d of %d examples flipped", flipped, 7*b)
	}
	if a := testing.AllocsPerRun(20, func() { Batch(ds, s, dst, b) }); a != 0 {
		t.Errorf("Batch allocates %v times per call", a)
	}
}

func TestBatchPanicsOnWrongLength(t *testing.T) {
	ds := seq(t, Shape{1, 2, 2}, 3, false)
	defer func() {
		if recover() == nil {
			t.Fatal("Batch with a short dst did not panic")
		}
	}()
	Batch(ds, NewSampler(3, 1, false), make([]float32, 7), 2)
}
