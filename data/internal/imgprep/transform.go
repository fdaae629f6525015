package imgprep

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // register the decoders
	_ "image/png"

	"github.com/anthonynsimon/bild/transform"
)

// MaxPixels bounds the decoded size of one image (it guards against images
// whose header claims a huge size).
const MaxPixels = 1 << 26

// Decode decodes a PNG or JPEG image, refusing images over MaxPixels.
func Decode(b []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("decode: %s image of %dx%d pixels, outside 1..%d pixels", format, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	return img, nil
}

// Channels returns 1 for grayscale images and 3 for all others.
func Channels(img image.Image) int {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return 1
	}
	return 3
}

// CropResize takes the centered crop x crop square of img (crop 0: the largest
// centered square; offsets rounded down as in score_sde's central_crop),
// resizes it to size x size with bild's linear filter (antialiased when
// shrinking: the filter widens with the scale factor), and writes it to dst,
// 3*size*size bytes in CHW (R, G, B planes) layout. Transparent pixels come
// out premultiplied, i.e. composited on black.
func CropResize(img image.Image, crop, size int, dst []uint8) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if crop == 0 {
		crop = min(w, h)
	}
	if w < crop || h < crop {
		return fmt.Errorf("image is %dx%d, smaller than the %dx%d crop", w, h, crop, crop)
	}
	if len(dst) != 3*size*size {
		panic(fmt.Sprintf("imgprep: CropResize dst has %d bytes, want %d", len(dst), 3*size*size))
	}
	left, top := b.Min.X+(w-crop)/2, b.Min.Y+(h-crop)/2
	r := image.Rect(left, top, left+crop, top+crop)
	var rgba *image.RGBA
	if crop == size {
		rgba = image.NewRGBA(image.Rect(0, 0, size, size))
		draw.Draw(rgba, rgba.Bounds(), img, r.Min, draw.Src)
	} else {
		var sub image.Image
		if si, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok {
			sub = si.SubImage(r)
		} else {
			sub = transform.Crop(img, r)
		}
		rgba = transform.Resize(sub, size, size, transform.Linear)
	}
	plane := size * size
	for y := 0; y < size; y++ {
		row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*size]
		o := y * size
		for x := 0; x < size; x++ {
			dst[o+x] = row[4*x]
			dst[plane+o+x] = row[4*x+1]
			dst[2*plane+o+x] = row[4*x+2]
		}
	}
	return nil
}
