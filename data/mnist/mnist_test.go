package mnist

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
)

func TestLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	pix, labels := digits(4, 28, 28)
	write(t, dir, "train-images-idx3-ubyte.gz", gz(idx([]int{4, 28, 28}, pix)))
	write(t, dir, "train-labels-idx1-ubyte", idx([]int{4}, labels)) // mixed: one gzipped, one not
	tpix, tlabels := digits(2, 28, 28)
	tpix[0] = 255
	write(t, dir, "t10k-images.idx3-ubyte", idx([]int{2, 28, 28}, tpix)) // the dotted variant
	write(t, dir, "t10k-labels.idx1-ubyte.gz", gz(idx([]int{2}, tlabels)))

	ds, err := Load(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 || ds.Shape() != (data.Shape{C: 1, H: 28, W: 28}) || !slices.Equal(ds.Labels(), []int{0, 1, 2, 3}) {
		t.Fatalf("train: %d x %v, labels %v", ds.Len(), ds.Shape(), ds.Labels())
	}
	img := make([]float32, 28*28)
	ds.Image(2, img)
	for k, v := range img {
		if want := float32(float64((14+k)%256)/127.5 - 1); v != want {
			t.Fatalf("image 2 pixel %d = %v, want %v", k, v, want)
		}
	}

	test, err := Load(Options{Path: dir, Split: "test", Limit: 1})
	if err != nil || test.Len() != 1 || test.Raw(0)[0] != 255 || !slices.Equal(test.Labels(), []int{0}) {
		t.Fatalf("test split with limit 1: %v", err)
	}

	// The images file itself, with its labels found by name.
	byFile, err := Load(Options{Path: filepath.Join(dir, "train-images-idx3-ubyte.gz")})
	if err != nil || byFile.Len() != 4 || byFile.Labels() == nil {
		t.Fatalf("by file: %v", err)
	}
}

func TestPad32(t *testing.T) {
	dir := t.TempDir()
	pix, labels := digits(2, 28, 28)
	write(t, dir, "train-images-idx3-ubyte", idx([]int{2, 28, 28}, pix))
	write(t, dir, "train-labels-idx1-ubyte", idx([]int{2}, labels))
	ds, err := Load(Options{Path: dir, Pad32: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape() != (data.Shape{C: 1, H: 32, W: 32}) || len(ds.Labels()) != 2 {
		t.Fatalf("padded shape %v", ds.Shape())
	}
	img := make([]float32, 32*32)
	ds.Image(1, img)
	for y := range 32 {
		for x := range 32 {
			want := float32(-1)
			if y >= 2 && y < 30 && x >= 2 && x < 30 {
				want = data.Scale(byte((7 + (y-2)*28 + x - 2) % 256))
			}
			if img[y*32+x] != want {
				t.Fatalf("padded image 1 at y%d x%d = %v, want %v", y, x, img[y*32+x], want)
			}
		}
	}
	big := t.TempDir()
	write(t, big, "train-images-idx3-ubyte", idx([]int{1, 33, 2}, make([]byte, 66)))
	if _, err := Load(Options{Path: big, Pad32: true}); err == nil || !strings.Contains(err.Error(), "cannot pad 33x2") {
		t.Errorf("padding 33 rows: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	pix, labels := digits(3, 4, 4)
	two := t.TempDir()
	write(t, two, "train-images-idx3-ubyte", idx([]int{48}, pix))
	count := t.TempDir()
	write(t, count, "train-images-idx3-ubyte", idx([]int{3, 4, 4}, pix))
	write(t, count, "train-labels-idx1-ubyte", idx([]int{2}, labels[:2]))
	badLabels := t.TempDir()
	write(t, badLabels, "train-images-idx3-ubyte", idx([]int{3, 4, 4}, pix))
	write(t, badLabels, "train-labels-idx1-ubyte.gz", gz(idx([]int{3}, labels))[:10])
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "no data path"},
		{Options{Path: filepath.Join(dir, "missing")}, "no such file or directory"},
		{Options{Path: dir}, "no train-images-idx3-ubyte"},
		{Options{Path: dir, Split: "valid"}, "unknown split"},
		{Options{Path: two}, "1 dimensions [48], want 3"},
		{Options{Path: count}, "[2] labels for the 3 images"},
		{Options{Path: badLabels}, "truncated gzip stream"},
	}
	for _, c := range cases {
		_, err := Load(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "mnist: ") {
			t.Errorf("Load(%+v) = %v, want an error containing %q", c.o, err, c.want)
		}
	}
	os.Remove(filepath.Join(count, "train-labels-idx1-ubyte")) // labels are optional
	if ds, err := Load(Options{Path: count}); err != nil || ds.Labels() != nil || ds.Len() != 3 {
		t.Errorf("without labels: %v", err)
	}
}
