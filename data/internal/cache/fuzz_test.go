package cache

import (
	"bytes"
	"testing"
)

func FuzzDecodeHeader(f *testing.F) {
	h, pix := sample()
	f.Add(h.Encode())
	f.Add(Header{Kind: "k", Count: 1, Shape: h.Shape}.Encode())
	f.Add(append(h.Encode(), pix...))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := DecodeHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if n > len(b) || !bytes.Equal(h.Encode(), b[:n]) {
			t.Fatalf("decoded %+v (%d bytes) does not re-encode to the input", h, n)
		}
		if h.PayloadSize() <= 0 {
			t.Fatalf("accepted header with payload size %d", h.PayloadSize())
		}
	})
}

func FuzzRead(f *testing.F) {
	h, pix := sample()
	var file bytes.Buffer
	encode(&file, h, pix)
	f.Add(file.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := read(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			return
		}
		if len(ds.Pix()) >= len(b) || ds.Len() < 1 {
			t.Fatalf("read %d images (%d bytes) from a %d-byte file", ds.Len(), len(ds.Pix()), len(b))
		}
	})
}
