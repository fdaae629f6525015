package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// idx encodes an unsigned-byte idx file.
func idx(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func write(t testing.TB, dir, name string, b []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// digits returns n images of h x w whose pixel k of image i is (7*i + k) % 256,
// and labels i % 10.
func digits(n, h, w int) (pix, labels []byte) {
	pix = make([]byte, n*h*w)
	for i := range n {
		for k := range h * w {
			pix[i*h*w+k] = byte((7*i + k) % 256)
		}
		labels = append(labels, byte(i%10))
	}
	return pix, labels
}
