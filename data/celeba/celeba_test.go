package celeba

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
)

// face returns a 178x218 JPEG (quality 100) that is gray level v inside the
// rectangle in and gray level out outside it. Constant gray areas decode
// exactly.
func face(t testing.TB, v, out uint8, in image.Rectangle) []byte {
	img := image.NewGray(image.Rect(0, 0, 178, 218))
	for y := 0; y < 218; y++ {
		for x := 0; x < 178; x++ {
			c := out
			if image.Pt(x, y).In(in) {
				c = v
			}
			img.SetGray(x, y, color.Gray{c})
		}
	}
	// Encode as RGB, like the real files.
	rgb := image.NewRGBA(img.Bounds())
	for i, g := range img.Pix {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = g, g, g, 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, rgb, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var all = image.Rect(0, 0, 178, 218)

// levels are the gray levels of the synthetic images 000001.jpg, 000002.jpg, ...
var levels = []uint8{0, 255, 17, 128, 200}

type file struct {
	name string
	b    []byte
}

func synthetic(t testing.TB) []file {
	var fs []file
	for i, v := range levels {
		fs = append(fs, file{FolderName + "/" + filepathName(i), face(t, v, v, all)})
	}
	return fs
}

func filepathName(i int) string { return strings.Repeat("0", 5) + string(rune('1'+i)) + ".jpg" }

func writeDir(t testing.TB, root string, fs []file) {
	for _, f := range fs {
		p := filepath.Join(root, filepath.FromSlash(f.name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeZip(t testing.TB, p string, fs []file) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range fs {
		w, _ := zw.Create(f.name)
		w.Write(f.b)
	}
	zw.Close()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTar(t testing.TB, p string, fs []file) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := len(fs) - 1; i >= 0; i-- { // reverse order: output order must not depend on it
		tw.WriteHeader(&tar.Header{Name: fs[i].name, Mode: 0o644, Size: int64(len(fs[i].b)), Typeflag: tar.TypeReg})
		tw.Write(fs[i].b)
	}
	tw.Close()
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip loads known gray levels from each layout and checks the
// [-1, 1] values exactly.
func TestRoundTrip(t *testing.T) {
	fs := synthetic(t)
	dir := t.TempDir()
	writeDir(t, filepath.Join(dir, "tree"), fs)
	writeZip(t, filepath.Join(dir, "zipped", ZipName), fs)
	writeTar(t, filepath.Join(dir, "faces.tar"), fs)
	for _, p := range []string{
		filepath.Join(dir, "tree"),             // parent of img_align_celeba/
		filepath.Join(dir, "tree", FolderName), // the folder itself
		filepath.Join(dir, "zipped"),           // parent of the zip
		filepath.Join(dir, "zipped", ZipName),  // the zip
		filepath.Join(dir, "faces.tar"),        // a tar of the folder
	} {
		t.Run(strings.TrimPrefix(p, dir), func(t *testing.T) {
			ds, err := Load(Options{Path: p, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != len(levels) || ds.Shape() != (data.Shape{C: 3, H: 64, W: 64}) || ds.Labels() != nil {
				t.Fatalf("loaded %d x %v", ds.Len(), ds.Shape())
			}
			img := make([]float32, ds.Shape().Size())
			for i, v := range levels {
				ds.Image(i, img)
				want := float32(float64(v)/127.5 - 1)
				for k, x := range img {
					if x != want {
						t.Fatalf("image %d value %d = %v, want %v (level %d)", i, k, x, want, v)
					}
				}
			}
		})
	}
}

func mean(b []uint8) float64 {
	s := 0
	for _, v := range b {
		s += int(v)
	}
	return float64(s) / float64(len(b))
}

func TestCropOption(t *testing.T) {
	dir := t.TempDir()
	// White exactly on the 140x140 crop, black elsewhere.
	writeDir(t, dir, []file{{FolderName + "/000001.jpg", face(t, 255, 0, image.Rect(19, 39, 159, 179))}})
	c140, err := Load(Options{Path: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	c178, err := Load(Options{Path: dir, Crop: 178, Size: 32, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := mean(c140.Pix()); m < 250 {
		t.Errorf("crop 140 of the white square has mean %.1f, want about 255", m)
	}
	// The 178 crop (rows 20..197) holds 140*140 white of 178*178 pixels.
	if m, want := mean(c178.Pix()), 255.0*140*140/(178*178); c178.Shape().H != 32 || m < want-5 || m > want+5 {
		t.Errorf("crop 178: shape %v, mean %.1f, want about %.1f", c178.Shape(), m, want)
	}
}

func TestSplitsAndLimit(t *testing.T) {
	dir := t.TempDir()
	fs := synthetic(t)
	writeDir(t, dir, fs)
	// No partition file: train is everything; test is an error.
	ds, err := Load(Options{Path: dir, NoCache: true, Limit: 2})
	if err != nil || ds.Len() != 2 || ds.Raw(1)[0] != levels[1] {
		t.Fatalf("limit 2: %v", err)
	}
	if _, err := Load(Options{Path: dir, Split: "test", NoCache: true}); err == nil || !strings.Contains(err.Error(), PartitionFile) {
		t.Errorf("test split without partition file: %v", err)
	}
	if _, err := Load(Options{Path: dir, Split: "bogus", NoCache: true}); err == nil || !strings.Contains(err.Error(), "unknown split") {
		t.Errorf("bogus split: %v", err)
	}

	os.MkdirAll(filepath.Join(dir, "Eval"), 0o755)
	part := "000001.jpg 0\n000002.jpg 2\n000003.jpg 0\n000004.jpg 1\n000005.jpg 2\n"
	os.WriteFile(filepath.Join(dir, "Eval", PartitionFile), []byte(part), 0o644)
	for _, c := range []struct {
		split string
		want  []uint8
	}{
		{"train", []uint8{levels[0], levels[2]}},
		{"valid", []uint8{levels[3]}},
		{"test", []uint8{levels[1], levels[4]}},
		{"all", levels},
	} {
		ds, err := Load(Options{Path: dir, Split: c.split, CacheDir: filepath.Join(dir, "cache")})
		if err != nil {
			t.Fatalf("%s: %v", c.split, err)
		}
		var got []uint8
		for i := range ds.Len() {
			got = append(got, ds.Raw(i)[100])
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("split %s gives levels %v, want %v", c.split, got, c.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "Eval", PartitionFile), []byte("000001.jpg 7\n"), 0o644)
	if _, err := Load(Options{Path: dir, NoCache: true}); err == nil || !strings.Contains(err.Error(), ":1: partition") {
		t.Errorf("bad partition file: %v", err)
	}
}

func TestCacheReuse(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, synthetic(t))
	var log bytes.Buffer
	first, err := Load(Options{Path: dir, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, FolderName+".celeba-c140-s64-train.dmmdcache")
	if !strings.Contains(log.String(), "wrote cache "+cache) {
		t.Fatalf("log %q does not report the cache next to the data (%s)", log.String(), cache)
	}
	log.Reset()
	second, err := Load(Options{Path: dir, Progress: &log})
	if err != nil || !strings.Contains(log.String(), "using cache") || !bytes.Equal(first.Pix(), second.Pix()) {
		t.Fatalf("second load: %v, log %q", err, log.String())
	}
	// A different crop must not use it.
	log.Reset()
	if _, err := Load(Options{Path: dir, Crop: 178, Progress: &log}); err != nil || strings.Contains(log.String(), "using cache") {
		t.Fatalf("crop 178: %v, log %q", err, log.String())
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	fs := synthetic(t)
	fs[3].b = fs[3].b[:len(fs[3].b)/3] // truncated JPEG
	writeDir(t, filepath.Join(dir, "bad"), fs)
	os.MkdirAll(filepath.Join(dir, "empty", FolderName), 0o755)
	small := image.NewRGBA(image.Rect(0, 0, 100, 100))
	var sb bytes.Buffer
	jpeg.Encode(&sb, small, nil)
	writeDir(t, filepath.Join(dir, "small"), []file{{FolderName + "/000001.jpg", sb.Bytes()}})
	cases := []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing"), "no such file or directory"},
		{filepath.Join(dir, "bad"), filepath.Join(dir, "bad", FolderName, "000004.jpg")},
		{filepath.Join(dir, "empty"), "no images found"},
		{filepath.Join(dir, "small"), "smaller than the 140x140 crop"},
	}
	for _, c := range cases {
		_, err := Load(Options{Path: c.path, NoCache: true})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "celeba: ") {
			t.Errorf("Load(%s) = %v, want an error containing %q", c.path, err, c.want)
		}
	}
	if _, err := Load(Options{}); err == nil {
		t.Error("Load with no path succeeded")
	}
}
