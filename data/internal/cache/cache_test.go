package cache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
)

func sample() (Header, []uint8) {
	h := Header{
		Kind:   "test/1",
		Source: "/data/img",
		Params: "crop=140 size=2",
		Count:  3,
		Shape:  data.Shape{C: 3, H: 2, W: 2},
	}
	h.Fingerprint[0], h.Fingerprint[31] = 1, 2
	pix := make([]uint8, h.PayloadSize())
	for i := range pix {
		pix[i] = uint8(7*i + 1)
	}
	return h, pix
}

func TestWriteRead(t *testing.T) {
	h, pix := sample()
	path := filepath.Join(t.TempDir(), "sub", "x"+Ext)
	if err := Write(path, h, pix); err != nil {
		t.Fatal(err)
	}
	var got Header
	ds, err := Read(path, func(g Header) error { got = g; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Errorf("header read back as %+v, want %+v", got, h)
	}
	if ds.Len() != 3 || ds.Shape() != h.Shape || !bytes.Equal(ds.Pix(), pix) || ds.Labels() != nil {
		t.Errorf("images read back as %d x %v", ds.Len(), ds.Shape())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after Write, want only the cache file", len(entries))
	}
	want := errors.New("not for me")
	if _, err := Read(path, func(Header) error { return want }); !errors.Is(err, want) {
		t.Errorf("Read with a rejecting check: %v", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"+Ext), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestReadDamaged(t *testing.T) {
	h, pix := sample()
	dir := t.TempDir()
	path := filepath.Join(dir, "good"+Ext)
	if err := Write(path, h, pix); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	hdrLen := len(h.Encode())
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x10; return b }
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "unexpected EOF"},
		{"cut in header", good[:hdrLen-3], "unexpected EOF"},
		{"cut in images", good[:hdrLen+5], "truncated"},
		{"missing trailer", good[:len(good)-1], "truncated"},
		{"padded", append(bytes.Clone(good), 0), "truncated or padded"},
		{"bad magic", flip(0), "not a cache file"},
		{"header bit", flip(20), "header checksum"},
		{"image bit", flip(hdrLen + 4), "payload checksum"},
		{"trailer bit", flip(len(good) - 2), "payload checksum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+Ext)
			if err := os.WriteFile(p, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(p, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, p, c.want)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	h, pix := sample()
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "a"+Ext), h, pix[1:]); err == nil {
		t.Error("Write with too few image bytes succeeded")
	}
	bad := h
	bad.Shape.C = 0
	if err := Write(filepath.Join(dir, "b"+Ext), bad, nil); err == nil {
		t.Error("Write of a header with 0 channels succeeded")
	}
	// A folder that is a regular file (like a read-only data folder): Write
	// fails and leaves nothing behind.
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := Write(filepath.Join(blocker, "c"+Ext), h, pix); err == nil {
		t.Error("Write below a regular file succeeded")
	}
	// A folder marked read-only is not written, even by root.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if err := Write(filepath.Join(ro, "d"+Ext), h, pix); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Write into a 0555 folder: %v", err)
	}
	if entries, _ := os.ReadDir(ro); len(entries) != 0 {
		t.Errorf("Write into a 0555 folder left %v", entries)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("failed Writes left %d entries, want only the blocker file and the read-only folder", len(entries))
	}
}

func TestDiff(t *testing.T) {
	h, _ := sample()
	mod := func(f func(*Header)) Header { g := h; f(&g); return g }
	cases := []struct {
		name string
		want Header
		diff string
	}{
		{"same", h, ""},
		{"any channels", mod(func(g *Header) { g.Shape.C = 0 }), ""},
		{"kind", mod(func(g *Header) { g.Kind = "other/1" }), "made by"},
		{"source", mod(func(g *Header) { g.Source = "/elsewhere" }), "made from"},
		{"params", mod(func(g *Header) { g.Params = "crop=178 size=2" }), "made with"},
		{"fingerprint", mod(func(g *Header) { g.Fingerprint[5] = 9 }), "fingerprint"},
		{"count", mod(func(g *Header) { g.Count = 4 }), "holds 3 images"},
		{"size", mod(func(g *Header) { g.Shape.W = 3 }), "image shape"},
		{"channels", mod(func(g *Header) { g.Shape.C = 1 }), "image shape"},
	}
	for _, c := range cases {
		if d := h.Diff(c.want); (c.diff == "") != (d == "") || !strings.Contains(d, c.diff) {
			t.Errorf("%s: Diff = %q, want %q", c.name, d, c.diff)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	got := Paths("", "/data/celeba/img_align_celeba", "celeba-c140-s64")
	if len(got) != 2 || got[0] != "/data/celeba/img_align_celeba.celeba-c140-s64.dmmdcache" ||
		!strings.HasPrefix(got[1], "/xdg/dmmd/img_align_celeba-") || !strings.HasSuffix(got[1], ".celeba-c140-s64.dmmdcache") {
		t.Errorf("default paths %q", got)
	}
	one := Paths("/c", "/data/a/img", "s")
	two := Paths("/c", "/data/b/img", "s")
	if len(one) != 1 || filepath.Dir(one[0]) != "/c" || one[0] == two[0] {
		t.Errorf("explicit cache dir paths %q and %q", one, two)
	}
}

// TestFuzzSeedValid makes sure the FuzzRead seed is a valid file, so that the
// fuzzer starts from the accepted path.
func TestFuzzSeedValid(t *testing.T) {
	h, pix := sample()
	var file bytes.Buffer
	encode(&file, h, pix)
	ds, err := read(bytes.NewReader(file.Bytes()), int64(file.Len()), nil)
	if err != nil || !bytes.Equal(ds.Pix(), pix) {
		t.Fatalf("read(encode(...)) = %v", err)
	}
}
