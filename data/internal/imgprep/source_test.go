package imgprep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIsImage(t *testing.T) {
	cases := map[string]bool{
		"a.png": true, "b/C.JPG": true, "x.jpeg": true, "d.gif": false, "readme.txt": false,
		".hidden.png": false, "__MACOSX/a/._b.jpg": false, "a/.git/x.png": false, "png": false,
	}
	for name, want := range cases {
		if IsImage(name) != want {
			t.Errorf("IsImage(%q) = %v", name, !want)
		}
	}
}

// TestSourceKinds lists and reads the same entries from a folder, a zip and a tar.
func TestSourceKinds(t *testing.T) {
	entries := []entry{
		{"img/b.png", []byte("B")},
		{"img/a.jpg", []byte("A")},
		{"img/sub/c.jpeg", []byte("C")},
		{"img/notes.txt", []byte("x")},
		{"__MACOSX/img/._a.jpg", []byte("junk")},
	}
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.name] = e.b
	}
	writeFiles(t, filepath.Join(dir, "tree"), files)
	writeZip(t, filepath.Join(dir, "x.zip"), entries)
	writeTar(t, filepath.Join(dir, "x.tar"), entries)

	for _, c := range []struct {
		path  string
		names []string
	}{
		{filepath.Join(dir, "tree"), []string{"img/a.jpg", "img/b.png", "img/sub/c.jpeg"}},
		{filepath.Join(dir, "x.zip"), []string{"img/a.jpg", "img/b.png", "img/sub/c.jpeg"}},
		{filepath.Join(dir, "x.tar"), []string{"img/a.jpg", "img/b.png", "img/sub/c.jpeg"}},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			s, err := OpenSource("test", c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !slices.Equal(s.Names, c.names) {
				t.Fatalf("Names = %q, want %q", s.Names, c.names)
			}
			got := make([]string, len(s.Names))
			err = s.Each(func(i int, name string, b []byte) error {
				if s.Names[i] != name || got[i] != "" {
					t.Errorf("Each gave index %d for %s", i, name)
				}
				got[i] = string(b)
				return nil
			})
			if err != nil || !slices.Equal(got, []string{"A", "B", "C"}) {
				t.Fatalf("Each read %q, %v", got, err)
			}
			if d := s.Display("img/a.jpg"); !strings.HasPrefix(d, c.path) || !strings.HasSuffix(d, "a.jpg") {
				t.Errorf("Display = %q", d)
			}
		})
	}
}

func TestSourceErrors(t *testing.T) {
	dir := t.TempDir()
	writeTar(t, filepath.Join(dir, "dup.tar"), []entry{{"a.png", nil}, {"./a.png", nil}})
	os.WriteFile(filepath.Join(dir, "junk.tar"), []byte(strings.Repeat("not a tar ", 100)), 0o644)
	os.WriteFile(filepath.Join(dir, "junk.zip"), []byte("PK not a zip"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.rar"), nil, 0o644)
	// A tar cut between two entries still parses as a smaller archive
	// with archive/tar alone.
	writeTar(t, filepath.Join(dir, "full.tar"), []entry{{"a.png", []byte("A")}, {"b.png", []byte("B")}})
	full, _ := os.ReadFile(filepath.Join(dir, "full.tar"))
	os.WriteFile(filepath.Join(dir, "cut.tar"), full[:1024], 0o644)
	cases := []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing"), "no such file"},
		{filepath.Join(dir, "dup.tar"), "a.png appears twice"},
		{filepath.Join(dir, "junk.tar"), "junk.tar"},
		{filepath.Join(dir, "junk.zip"), "junk.zip"},
		{filepath.Join(dir, "a.rar"), "not a folder, .zip or .tar"},
		{filepath.Join(dir, "cut.tar"), "cut.tar: reading tar: unexpected end of archive"},
	}
	for _, c := range cases {
		_, err := OpenSource("test", c.path, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "test: ") {
			t.Errorf("OpenSource(%s) = %v, want an error containing %q", filepath.Base(c.path), err, c.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"a.png": []byte("1"), "b.png": []byte("2")})
	fp := func() [32]byte {
		s, err := OpenSource("test", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.Fingerprint()
	}
	first := fp()
	if fp() != first {
		t.Fatal("fingerprint not stable")
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "b.png"), later, later)
	touched := fp()
	if touched == first {
		t.Error("fingerprint ignores modification times")
	}
	os.WriteFile(filepath.Join(dir, "c.png"), nil, 0o644)
	if fp() == touched {
		t.Error("fingerprint ignores a new file")
	}
	s, _ := OpenSource("test", dir, nil)
	all := s.Fingerprint()
	s.Select(s.Names[:2])
	if s.Fingerprint() == all {
		t.Error("fingerprint ignores the selection")
	}
}
