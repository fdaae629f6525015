package sample

import (
	"fmt"
	"image"
	"math"

	"github.com/dmmd/dmmd/data"
)

// Pixel converts a value in model space [-1, 1] to an 8-bit pixel: floor(clamp((x+1)/2, 0, 1) * 255 + 0.5).
// It inverts the datasets' x = v/127.5 - 1 exactly for every v (NaN maps to 0).
func Pixel(x float32) uint8 {
	v := (float64(x) + 1) / 2
	switch {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= 1:
		return 255
	}
	return uint8(math.Floor(v*255 + 0.5))
}

// ToImage converts one image (CHW values in [-1, 1], len s.Size()) to an *image.Gray (1 channel) or an opaque
// *image.RGBA (3 channels), pixel by pixel with Pixel.
func ToImage(x []float32, s data.Shape) (image.Image, error) {
	if err := checkImageShape(s); err != nil {
		return nil, err
	}
	if len(x) != s.Size() {
		return nil, fmt.Errorf("sample: image has %d values, want %d for shape %v", len(x), s.Size(), s)
	}
	r := image.Rect(0, 0, s.W, s.H)
	if s.C == 1 {
		img := image.NewGray(r)
		for i, v := range x {
			img.Pix[i] = Pixel(v)
		}
		return img, nil
	}
	img := image.NewRGBA(r)
	fillRGBA(img.Pix, img.Stride, 0, 0, x, s)
	return img, nil
}

// fillRGBA writes one CHW image (1 or 3 channels) into an RGBA pixel buffer at (x0, y0), opaque.
func fillRGBA(pix []uint8, stride, x0, y0 int, x []float32, s data.Shape) {
	plane := s.H * s.W
	for y := range s.H {
		row := pix[(y0+y)*stride+4*x0:]
		for xx := range s.W {
			p := y*s.W + xx
			var r, g, b uint8
			if s.C == 1 {
				r = Pixel(x[p])
				g, b = r, r
			} else {
				r, g, b = Pixel(x[p]), Pixel(x[plane+p]), Pixel(x[2*plane+p])
			}
			row[4*xx], row[4*xx+1], row[4*xx+2], row[4*xx+3] = r, g, b, 255
		}
	}
}
