package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// sample is a tar with a folder, three files (one of 2,000 bytes) and a symlink.
func sample(t *testing.T) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "./d/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, f := range []struct{ name, body string }{{"./d/a.bin", "A"}, {"d//b.bin", string(bytes.Repeat([]byte("B"), 2000))}, {"../up.bin", "U"}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.WriteHeader(&tar.Header{Name: "d/link", Typeflag: tar.TypeSymlink, Linkname: "a.bin"})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// onlyReader hides the Seek method of a bytes.Reader.
type onlyReader struct{ io.Reader }

func TestWalkTar(t *testing.T) {
	b := sample(t)
	for _, seek := range []bool{true, false} {
		var r io.Reader = bytes.NewReader(b)
		if !seek {
			r = onlyReader{r}
		}
		var got []string
		err := WalkTar(r, func(name string, h *tar.Header, body io.Reader) error {
			if name == "d/b.bin" {
				got = append(got, name) // left unread: skipped by seeking or reading
				return nil
			}
			c, _ := io.ReadAll(body)
			got = append(got, name+"="+string(c))
			return nil
		})
		if want := []string{"d/a.bin=A", "d/b.bin", "../up.bin=U"}; err != nil || !slices.Equal(got, want) {
			t.Fatalf("seekable %v: WalkTar gave %q, %v; want %q", seek, got, err, want)
		}
	}
	stop := errors.New("stop")
	if err := WalkTar(bytes.NewReader(b), func(string, *tar.Header, io.Reader) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
}

func TestWalkTarTruncated(t *testing.T) {
	b := sample(t)
	// Layout: dir header 0, a.bin header 512 + data 1024, b.bin header 1536 +
	// data 2048..4096 (2000 bytes + padding), up.bin header 4096 + data 4608,
	// symlink header 5120, then the end-of-archive zero blocks from 5632.
	for _, cut := range []int{700, 1536, 1800, 3000, 4096, 5120, 5632} {
		for _, seek := range []bool{true, false} {
			var r io.Reader = bytes.NewReader(b[:cut])
			if !seek {
				r = onlyReader{r}
			}
			err := WalkTar(r, func(string, *tar.Header, io.Reader) error { return nil }) // never reads bodies
			if err != ErrTruncated {
				t.Errorf("cut at %d, seekable %v: %v, want ErrTruncated", cut, seek, err)
			}
		}
	}
	// One zero block is enough for archive/tar, and for WalkTar.
	if err := WalkTar(bytes.NewReader(b[:5632+512]), func(string, *tar.Header, io.Reader) error { return nil }); err != nil {
		t.Errorf("archive with one end block: %v", err)
	}
}
