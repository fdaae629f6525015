package imgprep

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// folder writes n PNGs of side x side pixels; image i has value 10*i+c+1 in
// channel c (grayscale images: 10*i+1).
func folder(t testing.TB, dir string, n, side int, gray func(i int) bool) {
	files := map[string][]byte{}
	for i := range n {
		var img image.Image
		if gray != nil && gray(i) {
			g := image.NewGray(image.Rect(0, 0, side, side))
			for k := range g.Pix {
				g.Pix[k] = uint8(10*i + 1)
			}
			img = g
		} else {
			img = solid(side, side, color.RGBA{uint8(10*i + 1), uint8(10*i + 2), uint8(10*i + 3), 255})
		}
		files[filepath.Join("s", string(rune('a'+i))+".png")] = pngBytes(t, img)
	}
	writeFiles(t, dir, files)
}

func config(t testing.TB, dir, cacheDir string, progress *bytes.Buffer) Config {
	src, err := OpenSource("test", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	cfg := Config{Pkg: "test", Kind: "test/1", Params: "size=4", Slug: "s4", Source: src, Size: 4, CacheDir: cacheDir}
	if progress != nil {
		cfg.Progress = progress
	}
	return cfg
}

func TestLoadAndCache(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	folder(t, dir, 5, 4, nil)
	var log bytes.Buffer
	ds, err := Load(config(t, dir, cacheDir, &log))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 5 || ds.Shape().C != 3 || ds.Shape().H != 4 {
		t.Fatalf("loaded %d x %v", ds.Len(), ds.Shape())
	}
	for i := range 5 { // known values survive, in name order
		raw := ds.Raw(i)
		for c := range 3 {
			if v := raw[c*16+7]; v != uint8(10*i+c+1) {
				t.Fatalf("image %d channel %d = %d, want %d", i, c, v, 10*i+c+1)
			}
		}
	}
	if s := log.String(); !strings.Contains(s, "preprocessing") || !strings.Contains(s, "wrote cache") {
		t.Errorf("progress output %q lacks the bar or the cache message", s)
	}
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "*.dmmdcache"))
	if len(entries) != 1 {
		t.Fatalf("cache folder holds %q", entries)
	}

	log.Reset()
	again, err := Load(config(t, dir, cacheDir, &log))
	if err != nil || !bytes.Equal(again.Pix(), ds.Pix()) || !strings.Contains(log.String(), "using cache") {
		t.Fatalf("second load: %v, log %q", err, log.String())
	}

	// A changed source file makes the cache stale: it is rebuilt, not used.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "s", "c.png"), later, later)
	log.Reset()
	if _, err := Load(config(t, dir, cacheDir, &log)); err != nil || !strings.Contains(log.String(), "fingerprint") ||
		!strings.Contains(log.String(), "wrote cache") {
		t.Fatalf("after touching a file: %v, log %q", err, log.String())
	}

	// A damaged cache is rebuilt.
	st, _ := os.Stat(entries[0])
	os.Truncate(entries[0], st.Size()-10)
	log.Reset()
	if _, err := Load(config(t, dir, cacheDir, &log)); err != nil || !strings.Contains(log.String(), "truncated") {
		t.Fatalf("truncated cache: %v, log %q", err, log.String())
	}

	// Other parameters do not use this cache.
	cfg := config(t, dir, cacheDir, &log)
	cfg.Params = "size=4 other"
	log.Reset()
	if _, err := Load(cfg); err != nil || !strings.Contains(log.String(), "made with") {
		t.Fatalf("other params: %v, log %q", err, log.String())
	}
}

func TestLoadCacheFallback(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	folder(t, dir, 2, 4, nil)
	blocker := filepath.Join(tmp, "readonly")
	os.WriteFile(blocker, nil, 0o644) // a file where a folder should be: writing below it fails
	fallback := filepath.Join(tmp, "user", "x.dmmdcache")
	var log bytes.Buffer
	if _, err := load(config(t, dir, "", &log), []string{filepath.Join(blocker, "x.dmmdcache"), fallback}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fallback); err != nil {
		t.Fatalf("no cache in the fallback folder: %v (log %q)", err, log.String())
	}
	log.Reset()
	if _, err := load(config(t, dir, "", &log), []string{filepath.Join(blocker, "x.dmmdcache"), fallback}); err != nil ||
		!strings.Contains(log.String(), "using cache "+fallback) {
		t.Fatalf("second load: %v, log %q", err, log.String())
	}
	// Nowhere to write: the images still load, with a warning.
	log.Reset()
	if _, err := load(config(t, dir, "", &log), []string{filepath.Join(blocker, "y.dmmdcache")}); err != nil ||
		!strings.Contains(log.String(), "could not write a cache") {
		t.Fatalf("unwritable: %v, log %q", err, log.String())
	}
}

func TestLoadDeterministicOrder(t *testing.T) {
	dir := t.TempDir()
	folder(t, dir, 9, 6, nil)
	var first []uint8
	for _, workers := range []int{1, 2, 7} {
		cfg := config(t, dir, "", nil)
		cfg.NoCache, cfg.Workers = true, workers
		ds, err := Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = ds.Pix()
		} else if !bytes.Equal(ds.Pix(), first) {
			t.Fatalf("%d workers give different bytes than 1", workers)
		}
	}
}

func TestLoadChannels(t *testing.T) {
	gray := t.TempDir()
	folder(t, gray, 3, 4, func(int) bool { return true })
	cfg := config(t, gray, "", nil)
	cfg.NoCache = true
	ds, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape().C != 1 || ds.Raw(2)[5] != 21 || len(ds.Pix()) != 3*16 {
		t.Fatalf("gray folder: shape %v, value %d", ds.Shape(), ds.Raw(2)[5])
	}
	cfg.Channels = 3 // forced RGB replicates the gray plane
	ds, err = Load(cfg)
	if err != nil || ds.Shape().C != 3 || ds.Raw(1)[0] != 11 || ds.Raw(1)[16] != 11 || ds.Raw(1)[32] != 11 {
		t.Fatalf("forced RGB: %v %v", ds.Shape(), err)
	}

	mixed := t.TempDir()
	folder(t, mixed, 4, 4, func(i int) bool { return i == 2 })
	cfg = config(t, mixed, "", nil)
	cfg.NoCache = true
	_, err = Load(cfg)
	if err == nil || !strings.Contains(err.Error(), "mixed channel counts") || !strings.Contains(err.Error(), filepath.Join("s", "c.png")) {
		t.Fatalf("mixed folder: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "readme.txt"), []byte("no images"), 0o644)
	cfg := config(t, empty, "", nil)
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "no images found") || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty folder: %v", err)
	}

	bad := t.TempDir()
	folder(t, bad, 6, 4, nil)
	badFile := filepath.Join(bad, "s", "d.png")
	os.WriteFile(badFile, []byte("\x89PNG\r\n\x1a\ngarbage"), 0o644)
	cfg = config(t, bad, t.TempDir(), nil)
	_, err := Load(cfg)
	if err == nil || !strings.Contains(err.Error(), badFile) || !strings.HasPrefix(err.Error(), "test: ") {
		t.Errorf("undecodable image: %v, want an error naming %s", err, badFile)
	}
	if m, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "*")); len(m) != 0 {
		t.Errorf("failed load left %q in the cache folder", m)
	}

	small := t.TempDir()
	folder(t, small, 2, 4, nil)
	cfg = config(t, small, "", nil)
	cfg.Crop, cfg.NoCache = 5, true
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "smaller than the 5x5 crop") {
		t.Errorf("crop larger than images: %v", err)
	}
}
