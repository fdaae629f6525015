package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// IDX is a decoded idx file of unsigned bytes: Data holds the product of Dims
// values, last dimension fastest.
type IDX struct {
	Dims []int
	Data []uint8
}

// Limits on what an idx header may declare.
const (
	MaxDims     = 8
	MaxElements = 1 << 33
)

var idxTypes = map[byte]string{0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}

// ReadIDX decodes an idx stream from r: the magic 0x00 0x00 <type> <ndims>,
// ndims big-endian uint32 sizes, then the data. Only the unsigned-byte type
// (0x08) is supported. r must end right after the data. name is used in
// errors.
func ReadIDX(name string, r io.Reader) (*IDX, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("mnist: %s: truncated idx header (%d bytes)%s", name, n, cause(err))
	}
	m := binary.BigEndian.Uint32(magic[:])
	switch t, ok := idxTypes[magic[2]]; {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		return nil, fmt.Errorf("mnist: %s: wrong idx magic 0x%08x: this is gzip data (name it .gz or gunzip it)", name, m)
	case magic[0] != 0 || magic[1] != 0 || !ok:
		return nil, fmt.Errorf("mnist: %s: wrong idx magic 0x%08x (want 0x000008nn): not an idx file", name, m)
	case magic[2] != 0x08:
		return nil, fmt.Errorf("mnist: %s: idx element type 0x%02x (%s) not supported, only 0x08 (unsigned byte)", name, magic[2], t)
	case magic[3] < 1 || magic[3] > MaxDims:
		return nil, fmt.Errorf("mnist: %s: idx declares %d dimensions, want 1..%d", name, magic[3], MaxDims)
	}
	dims := make([]byte, 4*int(magic[3]))
	if n, err := io.ReadFull(r, dims); err != nil {
		return nil, fmt.Errorf("mnist: %s: truncated idx header (%d of %d dimension bytes)%s", name, n, len(dims), cause(err))
	}
	x := &IDX{Dims: make([]int, magic[3])}
	total := int64(1)
	for i := range x.Dims {
		d := int64(binary.BigEndian.Uint32(dims[4*i:]))
		if d == 0 {
			return nil, fmt.Errorf("mnist: %s: idx dimension %d is 0", name, i)
		}
		x.Dims[i] = int(d)
		if d > MaxElements/total { // checked before multiplying, so it cannot overflow
			return nil, fmt.Errorf("mnist: %s: idx dimensions %v exceed %d elements", name, x.Dims[:i+1], int64(MaxElements))
		}
		total *= d
	}
	data, err := readN(r, int(total))
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", name, err)
	}
	x.Data = data
	return x, nil
}

// readN reads exactly n bytes and then expects the end of r. It allocates
// as data arrives, so a header that lies about the size cannot make it
// allocate much more than the stream holds.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<24))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), cap(buf)))
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err == io.EOF && len(buf) < n {
			return nil, fmt.Errorf("idx data truncated: %d of %d bytes", len(buf), n)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading idx data after %d of %d bytes: %w", len(buf), n, err)
		}
	}
	// Read to the end: this also verifies a gzip stream's checksum.
	var probe [1]byte
	for {
		m, err := r.Read(probe[:])
		if m > 0 {
			return nil, fmt.Errorf("trailing bytes after the %d declared idx data bytes", n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("after the idx data: %w", err)
		}
	}
	return buf, nil
}

func cause(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ""
	}
	return ": " + err.Error()
}

// errTruncatedGzip marks a gzip stream that ends early.
var errTruncatedGzip = errors.New("truncated gzip stream")

type gzipReader struct{ r *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("%w (%w)", errTruncatedGzip, err)
	}
	return n, err
}

// ReadIDXFile reads the idx file at path, decompressing it if it starts with
// the gzip magic (whatever its name).
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w (%w)", errTruncatedGzip, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, fmt.Errorf("mnist: %s: %w", path, err)
		}
		r = gzipReader{zr}
	}
	return ReadIDX(path, r)
}
