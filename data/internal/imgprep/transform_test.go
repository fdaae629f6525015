package imgprep

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"strings"
	"testing"
)

// framed returns a w x h image that is white inside r and black outside.
func framed(w, h int, r image.Rectangle) *image.RGBA {
	img := solid(w, h, color.RGBA{0, 0, 0, 255})
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	return img
}

// TestCropPlacement: the white square is exactly the expected crop, so any
// offset error lets black into the border of the output.
func TestCropPlacement(t *testing.T) {
	cases := []struct {
		name       string
		w, h, crop int
		white      image.Rectangle
		size       int
	}{
		{"celeba 140", 178, 218, 140, image.Rect(19, 39, 159, 179), 64},
		{"celeba 178", 178, 218, 178, image.Rect(0, 20, 178, 198), 64},
		{"largest square, landscape", 50, 30, 0, image.Rect(10, 0, 40, 30), 16},
		{"largest square, odd margin", 31, 40, 0, image.Rect(0, 4, 31, 35), 31},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]uint8, 3*c.size*c.size)
			if err := CropResize(framed(c.w, c.h, c.white), c.crop, c.size, dst); err != nil {
				t.Fatal(err)
			}
			for k, v := range dst {
				if v != 255 {
					t.Fatalf("output value %d (plane %d, y %d, x %d) = %d, want 255",
						k, k/(c.size*c.size), k%(c.size*c.size)/c.size, k%c.size, v)
				}
			}
			// Shifting the white square by one pixel must show up.
			shifted := c.white.Add(image.Pt(1, 0))
			if err := CropResize(framed(c.w+1, c.h, shifted), c.crop, c.size, dst); err != nil {
				t.Fatal(err)
			}
			if c.crop != 0 && bytes.Count(dst, []byte{255}) == len(dst) {
				t.Fatal("output all white although the crop misses a white column")
			}
		})
	}
}

func TestCropResizeValues(t *testing.T) {
	// Identity when the crop is the output size: exact pixel values, CHW order.
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	vals := []color.RGBA{{1, 2, 3, 255}, {4, 5, 6, 255}, {7, 8, 9, 255}, {10, 11, 12, 255}}
	for i, v := range vals {
		img.SetRGBA(i%2, i/2, v)
	}
	dst := make([]uint8, 12)
	if err := CropResize(img, 0, 2, dst); err != nil {
		t.Fatal(err)
	}
	want := []uint8{1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}
	if !bytes.Equal(dst, want) {
		t.Errorf("identity crop = %v, want %v", dst, want)
	}
	// A constant image stays constant through a non-integer downscale.
	dst = make([]uint8, 3*7*7)
	if err := CropResize(solid(40, 30, color.RGBA{200, 100, 37, 255}), 0, 7, dst); err != nil {
		t.Fatal(err)
	}
	for k, v := range dst {
		if want := []uint8{200, 100, 37}[k/49]; v != want {
			t.Fatalf("constant image: value %d = %d, want %d", k, v, want)
		}
	}
	// Bounds that do not start at the origin.
	sub := framed(20, 20, image.Rect(5, 5, 15, 15)).SubImage(image.Rect(5, 5, 15, 15))
	dst = make([]uint8, 3*4*4)
	if err := CropResize(sub, 0, 4, dst); err != nil || bytes.Count(dst, []byte{255}) != len(dst) {
		t.Errorf("sub-image crop = %v, %v", dst, err)
	}
	if err := CropResize(solid(100, 120, color.RGBA{}), 140, 64, make([]uint8, 3*64*64)); err == nil ||
		!strings.Contains(err.Error(), "smaller than the 140x140 crop") {
		t.Errorf("small image: %v", err)
	}
}

func TestChannels(t *testing.T) {
	if Channels(image.NewGray(image.Rect(0, 0, 1, 1))) != 1 || Channels(image.NewGray16(image.Rect(0, 0, 1, 1))) != 1 ||
		Channels(image.NewRGBA(image.Rect(0, 0, 1, 1))) != 3 || Channels(image.NewYCbCr(image.Rect(0, 0, 1, 1), image.YCbCrSubsampleRatio420)) != 3 {
		t.Error("Channels misclassifies")
	}
}

// hugePNG is a PNG signature and an IHDR chunk claiming width x height pixels.
func hugePNG(width, height uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func TestDecode(t *testing.T) {
	good := pngBytes(t, solid(3, 2, color.RGBA{9, 8, 7, 255}))
	img, err := Decode(good)
	if err != nil || img.Bounds().Dx() != 3 {
		t.Fatalf("Decode(valid PNG) = %v", err)
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "unknown format"},
		{"text", []byte("hello"), "unknown format"},
		{"truncated png", good[:len(good)/2], "decode png"},
		{"huge png", hugePNG(100000, 100000), "outside 1..67108864 pixels"},
	}
	for _, c := range cases {
		if _, err := Decode(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Decode = %v, want error containing %q", c.name, err, c.want)
		}
	}
}
