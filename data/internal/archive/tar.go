// Package archive iterates over the regular files of tar streams, for the
// loaders that read datasets straight from archives (data/cifar, and
// data/celeba and data/imagefolder through data/internal/imgprep).
package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
)

// ErrTruncated reports a tar stream that ends early: inside a header or a
// file, or without the end-of-archive marker.
var ErrTruncated = errors.New("unexpected end of archive (truncated file?)")

// WalkTar calls fn for every regular file of the tar stream r, with its name
// cleaned (no leading "./"), its header and a reader of its contents. Names
// that would be unsafe to extract are accepted: nothing is extracted. It stops
// at the first error fn returns.
//
// archive/tar takes a stream that simply stops between two entries for a
// complete archive, so a file cut at an entry boundary would pass as a smaller
// archive. WalkTar therefore also requires that the archive ends with a zero
// block (the end-of-archive marker every tar writer emits).
func WalkTar(r io.Reader, fn func(name string, h *tar.Header, body io.Reader) error) error {
	t := &tracker{r: r}
	var tr *tar.Reader
	if s, ok := r.(io.Seeker); ok {
		tr = tar.NewReader(&seekTracker{t, s})
	} else {
		tr = tar.NewReader(t)
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if !t.zeroTail() {
				return ErrTruncated
			}
			return nil
		}
		if err == io.ErrUnexpectedEOF {
			return ErrTruncated
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return err
		}
		if !h.FileInfo().Mode().IsRegular() {
			continue
		}
		if err := fn(path.Clean(strings.TrimPrefix(h.Name, "./")), h, tr); err != nil {
			return err
		}
	}
}

// tracker remembers the last block of bytes read through it.
type tracker struct {
	r    io.Reader
	last [512]byte
	n    int // valid bytes at the end of last
}

func (t *tracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	b := p[:n]
	if len(b) >= len(t.last) {
		copy(t.last[:], b[len(b)-len(t.last):])
	} else {
		copy(t.last[:], t.last[len(b):])
		copy(t.last[len(t.last)-len(b):], b)
	}
	t.n = min(len(t.last), t.n+len(b))
	return n, err
}

// zeroTail reports whether the last 512 bytes read, with no seek since, are zero.
func (t *tracker) zeroTail() bool {
	return t.n == len(t.last) && bytes.Count(t.last[:], []byte{0}) == len(t.last)
}

type seekTracker struct {
	*tracker
	s io.Seeker
}

func (t *seekTracker) Seek(off int64, whence int) (int64, error) {
	if off != 0 || whence != io.SeekCurrent {
		t.n = 0
	}
	return t.s.Seek(off, whence)
}
