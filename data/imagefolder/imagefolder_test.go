package imagefolder

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
)

func writePNG(t testing.TB, p string, img image.Image) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pattern returns an 8x8 RGBA image whose pixel (x, y) is (x+8y+k, 2x+k, 255-y-k).
func pattern(k int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.SetRGBA(x, y, color.RGBA{uint8(x + 8*y + k), uint8(2*x + k), uint8(255 - y - k), 255})
		}
	}
	return img
}

// TestRoundTrip: at the native size, every pixel value reaches [-1, 1] exactly,
// in CHW layout and path order.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "b", "1.png"), pattern(20))
	writePNG(t, filepath.Join(dir, "a.png"), pattern(10))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("skip me"), 0o644)
	ds, err := Load(Options{Path: dir, Size: 8, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Shape() != (data.Shape{C: 3, H: 8, W: 8}) {
		t.Fatalf("loaded %d x %v", ds.Len(), ds.Shape())
	}
	img := make([]float32, ds.Shape().Size())
	for i, k := range []int{10, 20} { // a.png before b/1.png
		ds.Image(i, img)
		for y := range 8 {
			for x := range 8 {
				want := [3]int{x + 8*y + k, 2*x + k, 255 - y - k}
				for c := range 3 {
					if got := img[c*64+y*8+x]; got != float32(float64(want[c])/127.5-1) {
						t.Fatalf("image %d c%d y%d x%d = %v, want value %d", i, c, y, x, got, want[c])
					}
				}
			}
		}
	}
}

func TestResizeAndChannels(t *testing.T) {
	dir := t.TempDir()
	for i, v := range []uint8{30, 60, 90} {
		g := image.NewGray(image.Rect(0, 0, 50, 40))
		for k := range g.Pix {
			g.Pix[k] = v
		}
		writePNG(t, filepath.Join(dir, string(rune('a'+i))+".png"), g)
	}
	ds, err := Load(Options{Path: dir, NoCache: true, Limit: 2}) // default size 32
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Shape() != (data.Shape{C: 1, H: 32, W: 32}) || ds.Raw(1)[500] != 60 {
		t.Fatalf("gray folder: %d x %v, value %d", ds.Len(), ds.Shape(), ds.Raw(1)[500])
	}
	writePNG(t, filepath.Join(dir, "d.png"), pattern(0))
	_, err = Load(Options{Path: dir, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "mixed channel counts") || !strings.Contains(err.Error(), "d.png") {
		t.Fatalf("mixed folder: %v", err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "empty", "sub"), 0o755)
	writePNG(t, filepath.Join(dir, "bad", "ok.png"), pattern(0))
	os.WriteFile(filepath.Join(dir, "bad", "broken.jpg"), []byte("\xff\xd8\xff\xe0 not really"), 0o644)
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "no folder given"},
		{Options{Path: filepath.Join(dir, "missing")}, "no such file or directory"},
		{Options{Path: filepath.Join(dir, "empty")}, "no images found"},
		{Options{Path: filepath.Join(dir, "bad")}, filepath.Join(dir, "bad", "broken.jpg")},
		{Options{Path: dir, Size: -1}, "invalid size"},
	}
	for _, c := range cases {
		c.o.NoCache = true
		_, err := Load(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "imagefolder: ") {
			t.Errorf("Load(%+v) = %v, want an error containing %q", c.o, err, c.want)
		}
	}
}

func TestCacheNextToData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "pics")
	writePNG(t, filepath.Join(dir, "a.png"), pattern(1))
	if _, err := Load(Options{Path: dir, Size: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "pics.folder-s4.dmmdcache")); err != nil {
		t.Fatalf("no cache next to the folder: %v", err)
	}
}

// TestCacheFallbackReadOnly: next to data in a read-only folder (like
// ../shared), the cache goes to the user cache folder.
func TestCacheFallbackReadOnly(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "usercache"))
	ro := filepath.Join(root, "ro")
	writePNG(t, filepath.Join(ro, "pics", "a.png"), pattern(1))
	os.Chmod(ro, 0o555)
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	var log bytes.Buffer
	if _, err := Load(Options{Path: filepath.Join(ro, "pics"), Size: 4, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "usercache", "dmmd", "pics-*.folder-s4.dmmdcache")); len(m) != 1 {
		t.Fatalf("no cache in the user cache folder (log %q)", log.String())
	}
	if m, _ := filepath.Glob(filepath.Join(ro, "*")); len(m) != 1 {
		t.Errorf("read-only folder now holds %q", m)
	}
	log.Reset()
	if _, err := Load(Options{Path: filepath.Join(ro, "pics"), Size: 4, Progress: &log}); err != nil || !strings.Contains(log.String(), "using cache") {
		t.Fatalf("second load: %v, log %q", err, log.String())
	}
}
