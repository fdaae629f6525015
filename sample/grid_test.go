package sample_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/sample"
)

func TestGridSize(t *testing.T) {
	tests := []struct{ n, cols, rows int }{
		{1, 1, 1}, {2, 2, 1}, {3, 2, 2}, {4, 2, 2}, {5, 3, 2}, {9, 3, 3}, {10, 4, 3}, {64, 8, 8}, {65, 9, 8},
		{100, 10, 10}, {0, 0, 0},
	}
	for _, tc := range tests {
		if c, r := sample.GridSize(tc.n); c != tc.cols || r != tc.rows {
			t.Errorf("GridSize(%d) = %d x %d, want %d x %d", tc.n, c, r, tc.cols, tc.rows)
		}
	}
}

// TestGridGeometry fills each of 5 images (3 wide, 2 high) with its own value and checks every pixel of the grid:
// 3 x 2 cells, a 2-pixel black border around and between them, the unused sixth cell black, and upscaling by an
// integer factor replicating each pixel.
func TestGridGeometry(t *testing.T) {
	for _, c := range []int{1, 3} {
		s := data.Shape{C: c, H: 2, W: 3}
		const n = 5
		x := make([]float32, n*s.Size())
		value := func(i, ch int) uint8 { return uint8(40*i + 10*ch + 20) }
		for i := range n {
			for ch := range c {
				for p := range 6 {
					x[i*s.Size()+ch*6+p] = float32(value(i, ch))/127.5 - 1
				}
			}
		}
		g1, err := sample.Grid(x, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		W, H := 3*3+4*2, 2*2+3*2
		if g1.Bounds() != image.Rect(0, 0, W, H) {
			t.Fatalf("grid bounds %v, want %dx%d", g1.Bounds(), W, H)
		}
		want := func(px, py int) color.RGBA {
			cx, cy := (px-2)/(3+2), (py-2)/(2+2)
			inX := px >= 2 && (px-2)%(3+2) < 3
			inY := py >= 2 && (py-2)%(2+2) < 2
			i := cy*3 + cx
			if !inX || !inY || i >= n {
				return color.RGBA{A: 255}
			}
			if c == 1 {
				v := value(i, 0)
				return color.RGBA{v, v, v, 255}
			}
			return color.RGBA{value(i, 0), value(i, 1), value(i, 2), 255}
		}
		for py := range H {
			for px := range W {
				if got := g1.RGBAAt(px, py); got != want(px, py) {
					t.Fatalf("c=%d: pixel (%d,%d) = %v, want %v", c, px, py, got, want(px, py))
				}
			}
		}
		g3, err := sample.Grid(x, s, 3)
		if err != nil {
			t.Fatal(err)
		}
		if g3.Bounds() != image.Rect(0, 0, 3*W, 3*H) {
			t.Fatalf("scaled bounds %v", g3.Bounds())
		}
		for py := range 3 * H {
			for px := range 3 * W {
				if got := g3.RGBAAt(px, py); got != want(px/3, py/3) {
					t.Fatalf("c=%d scale 3: pixel (%d,%d) = %v, want %v", c, px, py, got, want(px/3, py/3))
				}
			}
		}
	}
}

func TestWriteGrid(t *testing.T) {
	s := data.Shape{C: 3, H: 4, W: 4}
	x := make([]float32, 64*s.Size())
	for i := range x {
		x[i] = float32(i%7)/3 - 1
	}
	path := filepath.Join(t.TempDir(), "run", "grids", "step000100.png")
	if err := sample.WriteGrid(path, x, s, 2); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := sample.Grid(x, s, 2)
	if img.Bounds() != want.Bounds() || img.Bounds().Dx() != 2*(8*4+9*2) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	for y := range want.Bounds().Dy() {
		for xx := range want.Bounds().Dx() {
			r1, g1, b1, a1 := img.At(xx, y).RGBA()
			r2, g2, b2, a2 := want.At(xx, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("pixel (%d,%d) differs after the PNG round trip", xx, y)
			}
		}
	}
	if names := listDir(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("grid folder holds %v", names)
	}
	for _, tc := range []struct {
		name  string
		x     []float32
		s     data.Shape
		scale int
	}{
		{"scale 0", x, s, 0},
		{"scale too large", x, s, sample.MaxScale + 1},
		{"ragged", x[:len(x)-1], s, 1},
		{"empty", nil, s, 1},
		{"two channels", make([]float32, 8), data.Shape{C: 2, H: 2, W: 2}, 1},
	} {
		if _, err := sample.Grid(tc.x, tc.s, tc.scale); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
