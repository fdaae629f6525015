package celeba

import (
	"archive/tar"
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/internal/sharedtest"
)

const sharedTar = "celeba/celeba-train-2400.tar"

// firstJPEG decodes the first image (in name order) of a tar independently of
// the loader.
func firstJPEG(t *testing.T, p string) image.Image {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, ".jpg") {
			b, _ := io.ReadAll(tr)
			files[path.Clean(h.Name)] = b
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	img, err := jpeg.Decode(bytes.NewReader(files[names[0]]))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// cropMeans returns the per-channel means (0..255) of img over r.
func cropMeans(img image.Image, r image.Rectangle) [3]float64 {
	var s [3]float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			s[0] += float64(cr >> 8)
			s[1] += float64(cg >> 8)
			s[2] += float64(cb >> 8)
		}
	}
	n := float64(r.Dx() * r.Dy())
	return [3]float64{s[0] / n, s[1] / n, s[2] / n}
}

// planeMeans returns the per-channel means of one CHW image.
func planeMeans(raw []uint8) [3]float64 {
	p := len(raw) / 3
	return [3]float64{mean(raw[:p]), mean(raw[p : 2*p]), mean(raw[2*p:])}
}

func TestRealCelebA(t *testing.T) {
	p := sharedtest.Path(t, sharedTar)
	var log bytes.Buffer
	cacheDir := t.TempDir()
	ds, err := Load(Options{Path: p, CacheDir: cacheDir, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2400 || ds.Shape().C != 3 || ds.Shape().H != 64 || ds.Shape().W != 64 {
		t.Fatalf("loaded %d images of %v, want 2400 of 3x64x64", ds.Len(), ds.Shape())
	}

	// Per-channel statistics over all pixels.
	plane := 64 * 64
	var sum, sq [3]float64
	for i := range ds.Len() {
		raw := ds.Raw(i)
		for c := range 3 {
			for _, v := range raw[c*plane : (c+1)*plane] {
				sum[c] += float64(v)
				sq[c] += float64(v) * float64(v)
			}
		}
	}
	n := float64(ds.Len() * plane)
	var m, sd [3]float64
	for c := range 3 {
		m[c] = sum[c] / n
		sd[c] = math.Sqrt(sq[c]/n - m[c]*m[c])
	}
	t.Logf("per-channel mean %.2f, std %.2f", m, sd)
	for c := range 3 {
		if m[c] < 60 || m[c] > 190 || sd[c] < 40 || sd[c] > 90 {
			t.Errorf("channel %d: mean %.1f std %.1f outside the range of face photos", c, m[c], sd[c])
		}
	}
	if !(m[0] > m[1] && m[1] > m[2]) {
		t.Errorf("channel means %.1f not ordered R > G > B as for skin tones", m)
	}

	// The first image agrees with an independent decode of its 140x140 crop
	// (resampling preserves the mean up to rounding and edge effects).
	img := firstJPEG(t, p)
	want := cropMeans(img, image.Rect(19, 39, 159, 179))
	got := planeMeans(ds.Raw(0))
	for c := range 3 {
		if math.Abs(got[c]-want[c]) > 1.5 {
			t.Errorf("image 0 channel %d: mean %.2f, its crop in the JPEG has %.2f", c, got[c], want[c])
		}
	}

	// The second load reads the cache.
	log.Reset()
	again, err := Load(Options{Path: p, CacheDir: cacheDir, Progress: &log})
	if err != nil || !strings.Contains(log.String(), "using cache") || !bytes.Equal(again.Pix(), ds.Pix()) {
		t.Fatalf("second load: %v, log %q", err, log.String())
	}

	// The 178x178 crop.
	c178, err := Load(Options{Path: p, Crop: 178, Limit: 40, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	want = cropMeans(img, image.Rect(0, 20, 178, 198))
	got = planeMeans(c178.Raw(0))
	for c := range 3 {
		if c178.Len() != 40 || math.Abs(got[c]-want[c]) > 1.5 {
			t.Errorf("crop 178, %d images: image 0 channel %d mean %.2f, its crop in the JPEG has %.2f", c178.Len(), c, got[c], want[c])
		}
	}
}
