package sample

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/anthonynsimon/bild/transform"

	"github.com/dmmd/dmmd/data"
)

// GridBorder is the width in pixels (before upscaling) of the black border around and between grid cells.
const GridBorder = 2

// MaxScale bounds the grid upscaling factor.
const MaxScale = 64

// GridSize returns the number of columns and rows of the square-ish grid for n images: cols = ceil(sqrt(n)),
// rows = ceil(n/cols). Cells are filled row by row; unused cells stay black.
func GridSize(n int) (cols, rows int) {
	if n < 1 {
		return 0, 0
	}
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	for cols*cols < n { // guard against rounding
		cols++
	}
	for cols > 1 && (cols-1)*(cols-1) >= n {
		cols--
	}
	rows = (n + cols - 1) / cols
	return cols, rows
}

// maxGridPixels bounds the pixels of a grid after upscaling (2^28: a 1 GiB RGBA image).
const maxGridPixels = 1 << 28

// CheckGrid reports whether a grid of n images of shape s at the given scale can be made: 1 <= scale <= MaxScale
// and at most 2^28 pixels after upscaling. Check before computing the samples.
func CheckGrid(n int, s data.Shape, scale int) error {
	if err := checkImageShape(s); err != nil {
		return err
	}
	if scale < 1 || scale > MaxScale {
		return fmt.Errorf("sample: grid scale %d, want 1..%d", scale, MaxScale)
	}
	if n < 1 {
		return fmt.Errorf("sample: grid of %d images", n)
	}
	cols, rows := GridSize(n)
	W := int64(cols)*int64(s.W) + int64(cols+1)*GridBorder
	H := int64(rows)*int64(s.H) + int64(rows+1)*GridBorder
	if W*H*int64(scale)*int64(scale) > maxGridPixels {
		return fmt.Errorf("sample: grid of %d images at scale %d would be %dx%d pixels: too large", n, scale, W*int64(scale), H*int64(scale))
	}
	return nil
}

// Grid lays out the images in x (len(x)/s.Size() of them, CHW values in [-1, 1]) on a grid of GridSize cells with
// a GridBorder-pixel black border around and between the cells, then upscales the whole grid by the integer factor
// scale with nearest-neighbour sampling (so the border becomes 2*scale pixels wide). The image is opaque RGBA of
// size (cols*W + (cols+1)*2)*scale by (rows*H + (rows+1)*2)*scale.
func Grid(x []float32, s data.Shape, scale int) (*image.RGBA, error) {
	if err := checkImageShape(s); err != nil {
		return nil, err
	}
	if scale < 1 || scale > MaxScale {
		return nil, fmt.Errorf("sample: grid scale %d, want 1..%d", scale, MaxScale)
	}
	size := s.Size()
	if len(x) == 0 || len(x)%size != 0 {
		return nil, fmt.Errorf("sample: grid: %d values is not a positive multiple of the image size %d (%v)",
			len(x), size, s)
	}
	n := len(x) / size
	if err := CheckGrid(n, s, scale); err != nil {
		return nil, err
	}
	cols, rows := GridSize(n)
	W := cols*s.W + (cols+1)*GridBorder
	H := rows*s.H + (rows+1)*GridBorder
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255 // opaque black background and border
	}
	for i := range n {
		c, r := i%cols, i/cols
		x0 := GridBorder + c*(s.W+GridBorder)
		y0 := GridBorder + r*(s.H+GridBorder)
		fillRGBA(img.Pix, img.Stride, x0, y0, x[i*size:(i+1)*size], s)
	}
	if scale == 1 {
		return img, nil
	}
	return transform.Resize(img, W*scale, H*scale, transform.NearestNeighbor), nil
}

// WriteGrid writes Grid(x, s, scale) as a PNG file at path, atomically (temporary file and rename), creating the
// parent folder if needed.
func WriteGrid(path string, x []float32, s data.Shape, scale int) error {
	img, err := Grid(x, s, scale)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}
