package sample_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/sample"
)

func TestPixel(t *testing.T) {
	tests := []struct {
		x    float32
		want uint8
	}{
		{-1, 0}, {1, 255}, {0, 128}, {-2, 0}, {2, 255}, {float32(math.NaN()), 0},
		{float32(math.Inf(1)), 255}, {float32(math.Inf(-1)), 0},
		{-1 + 2*0.49/255, 0}, {-1 + 2*0.51/255, 1}, // rounding half way between 0 and 1
		{1 - 2*0.49/255, 255}, {1 - 2*0.51/255, 254},
		{float32(100.0/127.5 - 1), 100},
	}
	for _, tc := range tests {
		if got := sample.Pixel(tc.x); got != tc.want {
			t.Errorf("Pixel(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
	// Every 8-bit value survives the datasets' scaling, whichever way it was computed in float32.
	for v := range 256 {
		for _, x := range []float32{data.Scale(uint8(v)), float32(v)/127.5 - 1, float32(float64(v)/127.5 - 1)} {
			if got := sample.Pixel(x); got != uint8(v) {
				t.Errorf("Pixel(%v) = %d, want %d", x, got, v)
			}
		}
	}
}

// smallFlow is a cheap flow on RGB or gray images of shape (c, 4, 5) with groups of p particles.
func smallFlow(t testing.TB, c, p, chunk int, mode sample.Mode) *sample.Flow {
	t.Helper()
	critic := newRFF(c, 4, 5, 16, 0.5, 2, 3)
	d := newCloud(12, c*20, 5)
	o := sample.DefaultOptions(mode, c*20)
	o.Levels, o.Particles, o.Chunk, o.Seed, o.Eta = 3, p, chunk, 11, 0.5
	lv, err := o.LevelGrid()
	if err != nil {
		t.Fatal(err)
	}
	e, err := sample.ComputeEmbeddings(critic, d, lv, sample.EmbedOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := sample.NewFlow(critic, e, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// listDir returns the sorted names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// readAll returns the bytes of every file in dir by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, name := range listDir(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

func sameDirs(t *testing.T, a, b string) {
	t.Helper()
	ma, mb := readAll(t, a), readAll(t, b)
	if len(ma) != len(mb) {
		t.Fatalf("%d files vs %d", len(ma), len(mb))
	}
	for name, x := range ma {
		if !bytes.Equal(x, mb[name]) {
			t.Errorf("%s differs", name)
		}
	}
}

// TestExportFolderContract: names, count, nothing else, image size, 8-bit gray or RGB without alpha, file mode,
// and pixel values equal to Pixel of the flow's particles.
func TestExportFolderContract(t *testing.T) {
	for _, c := range []int{1, 3} {
		f := smallFlow(t, c, 4, 3, sample.Exact)
		dir := filepath.Join(t.TempDir(), "samples") // created by Export
		const n = 10
		st, err := sample.Export(context.Background(), f, dir, sample.ExportOptions{N: n})
		if err != nil {
			t.Fatal(err)
		}
		if st.Written != n || st.Skipped != 0 || st.Groups != 3 {
			t.Errorf("stats %+v, want 10 written in 3 groups", st)
		}
		names := listDir(t, dir)
		want := []string{sample.ManifestName, "000000.png", "000001.png", "000002.png", "000003.png", "000004.png", "000005.png",
			"000006.png", "000007.png", "000008.png", "000009.png"}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("files %v", names)
		}
		x, err := f.Sample(n)
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range names[1:] {
			path := filepath.Join(dir, name)
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o644 {
				t.Errorf("%s: mode %v", name, st.Mode())
			}
			raw, _ := os.ReadFile(path)
			// IHDR: width, height, bit depth 8, colour type 0 (gray) or 2 (RGB, no alpha).
			wantType := byte(2)
			if c == 1 {
				wantType = 0
			}
			if raw[24] != 8 || raw[25] != wantType {
				t.Errorf("%s: bit depth %d, colour type %d, want 8, %d", name, raw[24], raw[25], wantType)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != image.Rect(0, 0, 5, 4) {
				t.Errorf("%s: bounds %v", name, img.Bounds())
			}
			xi := x[i*c*20 : (i+1)*c*20]
			for y := range 4 {
				for xx := range 5 {
					p := y*5 + xx
					var got [3]uint8
					switch im := img.(type) {
					case *image.Gray:
						v := im.GrayAt(xx, y).Y
						got = [3]uint8{v, v, v}
					case *image.RGBA:
						v := im.RGBAAt(xx, y)
						got = [3]uint8{v.R, v.G, v.B}
					default:
						t.Fatalf("%s decoded as %T", name, img)
					}
					for ch := range c {
						if want := sample.Pixel(xi[ch*20+p]); got[ch] != want {
							t.Fatalf("%s: pixel (%d,%d) channel %d = %d, want %d", name, xx, y, ch, got[ch], want)
						}
					}
				}
			}
		}
	}
}

// TestExportResume deletes one file and re-runs the export: only that file is written again (the other files are
// not touched), with the same bytes, and a stale temporary file is cleaned up.
func TestExportResume(t *testing.T) {
	f := smallFlow(t, 3, 4, 4, sample.Exact)
	dir := t.TempDir()
	opt := sample.ExportOptions{N: 10}
	if _, err := sample.Export(context.Background(), f, dir, opt); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, dir)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for name := range before {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "000005.png")); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".000006.png.tmp123456")
	if err := os.WriteFile(stale, []byte("half a png"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sample.Export(context.Background(), f, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 1 || st.Skipped != 9 || st.Groups != 1 {
		t.Errorf("resume stats %+v, want 1 written, 9 skipped, 1 group", st)
	}
	after := readAll(t, dir)
	if len(after) != 11 { // and the manifest
		t.Errorf("%d files after resume: %v", len(after), listDir(t, dir))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed on resume", name)
		}
		fi, _ := os.Stat(filepath.Join(dir, name))
		if touched := !fi.ModTime().Equal(old); touched != (name == "000005.png") {
			t.Errorf("%s: rewritten = %v", name, touched)
		}
	}
	// Nothing missing: nothing computed.
	st, err = sample.Export(context.Background(), f, dir, opt)
	if err != nil || st.Written != 0 || st.Groups != 0 || st.Skipped != 10 {
		t.Errorf("complete folder: %+v, %v", st, err)
	}
	// A larger N keeps the first files and adds the rest; a smaller N leaves the extra files alone.
	st, err = sample.Export(context.Background(), f, dir, sample.ExportOptions{N: 13})
	if err != nil || st.Written != 3 || st.Skipped != 10 {
		t.Errorf("N 10 -> 13: %+v, %v", st, err)
	}
	st, err = sample.Export(context.Background(), f, dir, sample.ExportOptions{N: 5})
	if err != nil || st.Written != 0 || st.Beyond != 8 {
		t.Errorf("N 13 -> 5: %+v, %v", st, err)
	}
}

// TestExportRefuses: a folder holding anything else is refused before anything is written, as are existing
// images of another size, a file in place of the folder, and bad options.
func TestExportRefuses(t *testing.T) {
	f := smallFlow(t, 3, 4, 4, sample.Exact)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
	}{
		{"foreign file", func(dir string) error { return os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644) }},
		{"foreign png", func(dir string) error { return os.WriteFile(filepath.Join(dir, "cat.png"), nil, 0o644) }},
		{"short name", func(dir string) error { return os.WriteFile(filepath.Join(dir, "00001.png"), nil, 0o644) }},
		{"padded name", func(dir string) error { return os.WriteFile(filepath.Join(dir, "0000001.png"), nil, 0o644) }},
		{"subfolder", func(dir string) error { return os.Mkdir(filepath.Join(dir, "grids"), 0o755) }},
		{"other size", func(dir string) error {
			var b bytes.Buffer
			_ = png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 3, 3)))
			return os.WriteFile(filepath.Join(dir, "000001.png"), b.Bytes(), 0o644)
		}},
		{"gray in rgb", func(dir string) error {
			var b bytes.Buffer
			_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 5, 4)))
			return os.WriteFile(filepath.Join(dir, "000002.png"), b.Bytes(), 0o644)
		}},
		{"not a png", func(dir string) error { return os.WriteFile(filepath.Join(dir, "000003.png"), []byte("x"), 0o644) }},
	} {
		dir := t.TempDir()
		if err := tc.setup(dir); err != nil {
			t.Fatal(err)
		}
		before := listDir(t, dir)
		_, err := sample.Export(ctx, f, dir, sample.ExportOptions{N: 8})
		if err == nil || !strings.HasPrefix(err.Error(), "sample: ") {
			t.Errorf("%s: error %v, want a sample: error", tc.name, err)
		}
		if after := listDir(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("%s: folder changed from %v to %v", tc.name, before, after)
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, nil, 0o644)
	if _, err := sample.Export(ctx, f, file, sample.ExportOptions{N: 8}); err == nil {
		t.Error("a file as output folder accepted")
	}
	for _, opt := range []sample.ExportOptions{{N: 0}, {N: -3}, {N: sample.MaxExport + 1}, {N: 8, Shard: sample.Shard{Index: 3, Count: 3}}} {
		if _, err := sample.Export(ctx, f, t.TempDir(), opt); err == nil {
			t.Errorf("options %+v accepted", opt)
		}
	}
	if _, err := sample.Export(ctx, nil, t.TempDir(), sample.ExportOptions{N: 1}); err == nil {
		t.Error("nil flow accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sample.Export(cancelled, f, t.TempDir(), sample.ExportOptions{N: 8}); err == nil {
		t.Error("cancelled context ignored")
	}
}

// TestExportDeterminism: byte-identical folders for the same seed twice, for two chunk sizes (approx and exact
// mode), and for shards 0/3, 1/3, 2/3 writing into one folder versus no sharding.
func TestExportDeterminism(t *testing.T) {
	ctx := context.Background()
	const n = 22 // 6 groups of 4, the last one short
	for _, mode := range []sample.Mode{sample.Approx, sample.Exact} {
		ref := t.TempDir()
		if _, err := sample.Export(ctx, smallFlow(t, 3, 4, 4, mode), ref, sample.ExportOptions{N: n}); err != nil {
			t.Fatal(err)
		}
		again := t.TempDir()
		if _, err := sample.Export(ctx, smallFlow(t, 3, 4, 4, mode), again, sample.ExportOptions{N: n}); err != nil {
			t.Fatal(err)
		}
		sameDirs(t, ref, again)
		chunked := t.TempDir()
		if _, err := sample.Export(ctx, smallFlow(t, 3, 4, 1, mode), chunked, sample.ExportOptions{N: n}); err != nil {
			t.Fatal(err)
		}
		sameDirs(t, ref, chunked)
		sharded := t.TempDir()
		total := 0
		for i := range 3 {
			sh, err := sample.ParseShard([]string{"0/3", "1/3", "2/3"}[i])
			if err != nil {
				t.Fatal(err)
			}
			st, err := sample.Export(ctx, smallFlow(t, 3, 4, 3, mode), sharded, sample.ExportOptions{N: n, Shard: sh})
			if err != nil {
				t.Fatal(err)
			}
			total += st.Written
		}
		if total != n {
			t.Errorf("%v: shards wrote %d files, want %d", mode, total, n)
		}
		sameDirs(t, ref, sharded)
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want sample.Shard
		ok   bool
	}{
		{"", sample.Shard{Index: 0, Count: 1}, true},
		{"0/1", sample.Shard{Index: 0, Count: 1}, true},
		{"2/3", sample.Shard{Index: 2, Count: 3}, true},
		{" 7 / 8 ", sample.Shard{Index: 7, Count: 8}, true},
		{"3/3", sample.Shard{}, false},
		{"-1/3", sample.Shard{}, false},
		{"1/0", sample.Shard{}, false},
		{"1", sample.Shard{}, false},
		{"a/b", sample.Shard{}, false},
		{"1/2/3", sample.Shard{}, false},
	}
	for _, tc := range tests {
		got, err := sample.ParseShard(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "sample: ") {
			t.Errorf("ParseShard(%q): error %q lacks the prefix", tc.in, err)
		}
		if tc.ok && got.String() != strings.ReplaceAll(strings.TrimSpace(tc.in), " ", "") && tc.in != "" {
			t.Errorf("String() = %q for %q", got.String(), tc.in)
		}
	}
	// The shards partition the groups.
	for g := range 20 {
		owners := 0
		for i := range 3 {
			if (sample.Shard{Index: i, Count: 3}).Owns(g) {
				owners++
			}
		}
		if owners != 1 {
			t.Errorf("group %d has %d owners", g, owners)
		}
	}
	if !(sample.Shard{}).Owns(5) || (sample.Shard{}).String() != "0/1" {
		t.Error("the zero Shard is not 0/1")
	}
}

// TestExportReal: 8-bit images go out exactly as they came in, gray and RGB, sharded and resumed.
func TestExportReal(t *testing.T) {
	ctx := context.Background()
	for _, c := range []int{1, 3} {
		shape := data.Shape{C: c, H: 3, W: 4}
		pix := make([]uint8, 9*shape.Size())
		rng := rand.New(rand.NewPCG(1, uint64(c)))
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		pix[0], pix[1] = 0, 255
		ds, err := data.NewU8(shape, pix, nil)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		st, err := sample.ExportReal(ctx, ds, dir, sample.ExportOptions{N: 7})
		if err != nil || st.Written != 7 {
			t.Fatalf("ExportReal: %+v, %v", st, err)
		}
		for i, name := range listDir(t, dir)[1:] { // after the manifest
			if name != sample.FileName(i) {
				t.Fatalf("file %d is %s", i, name)
			}
			fh, _ := os.Open(filepath.Join(dir, name))
			img, err := png.Decode(fh)
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
			raw := ds.Raw(i)
			for y := range 3 {
				for x := range 4 {
					p := y*4 + x
					for ch := range c {
						var got uint8
						if c == 1 {
							got = img.(*image.Gray).GrayAt(x, y).Y
						} else {
							v := img.(*image.RGBA).RGBAAt(x, y)
							got = [3]uint8{v.R, v.G, v.B}[ch]
						}
						if got != raw[ch*12+p] {
							t.Fatalf("image %d (%d,%d) channel %d: %d, want %d", i, x, y, ch, got, raw[ch*12+p])
						}
					}
				}
			}
		}
		// Sharded into another folder: the same bytes; N = 0 exports all 9.
		sharded := t.TempDir()
		for i := range 2 {
			if _, err := sample.ExportReal(ctx, ds, sharded, sample.ExportOptions{N: 7, Shard: sample.Shard{Index: i, Count: 2}}); err != nil {
				t.Fatal(err)
			}
		}
		sameDirs(t, dir, sharded)
		st, err = sample.ExportReal(ctx, ds, dir, sample.ExportOptions{})
		if err != nil || st.Written != 2 || st.Skipped != 7 {
			t.Errorf("resume to the whole dataset: %+v, %v", st, err)
		}
	}
	if _, err := sample.ExportReal(ctx, nil, t.TempDir(), sample.ExportOptions{}); err == nil {
		t.Error("nil dataset accepted")
	}
	two, _ := data.NewU8(data.Shape{C: 2, H: 2, W: 2}, make([]uint8, 8), nil)
	if _, err := sample.ExportReal(ctx, two, t.TempDir(), sample.ExportOptions{}); err == nil {
		t.Error("2-channel images accepted")
	}
}
