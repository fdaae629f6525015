package mnist

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dmmd/dmmd/internal/sharedtest"
)

func TestRealMNIST(t *testing.T) {
	dir := filepath.Dir(sharedtest.Path(t, "mnist/train-images-idx3-ubyte.gz"))
	for _, c := range []struct {
		split       string
		n           int
		first       []int
		mean, std   float64 // of the raw 0..255 values
		labelCounts []int
	}{
		{"train", 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, 33.3184, 78.5675,
			[]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{"test", 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, 33.7912, 79.1725,
			[]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	} {
		ds, err := Load(Options{Path: dir, Split: c.split})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != c.n || ds.Shape().C != 1 || ds.Shape().H != 28 || ds.Shape().W != 28 {
			t.Fatalf("%s: %d images of %v", c.split, ds.Len(), ds.Shape())
		}
		if got := ds.Labels()[:10]; !slices.Equal(got, c.first) {
			t.Errorf("%s: first labels %v, want %v", c.split, got, c.first)
		}
		counts := make([]int, 10)
		for _, l := range ds.Labels() {
			counts[l]++
		}
		if !slices.Equal(counts, c.labelCounts) {
			t.Errorf("%s: label counts %v, want %v", c.split, counts, c.labelCounts)
		}
		var s, sq float64
		for _, v := range ds.Pix() {
			s += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(ds.Pix()))
		mean, std := s/n, math.Sqrt(sq/n-(s/n)*(s/n))
		if math.Abs(mean-c.mean) > 1e-3 || math.Abs(std-c.std) > 1e-3 {
			t.Errorf("%s: pixel mean %.4f std %.4f, want %.4f %.4f", c.split, mean, std, c.mean, c.std)
		}
	}
	padded, err := Load(Options{Path: dir, Pad32: true, Limit: 100})
	if err != nil || padded.Len() != 100 || padded.Shape().H != 32 || padded.Shape().W != 32 {
		t.Fatalf("padded: %v", err)
	}
}
