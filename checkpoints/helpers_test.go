package checkpoints

import (
	"bytes"
	"testing"
)

// sampleWriter returns a Writer holding a little of everything a checkpoint holds.
func sampleWriter(t testing.TB) *Writer {
	t.Helper()
	w := NewWriter()
	w.AddF32("params/w", []int{2, 3}, []float32{1, -2, 3.5, 0, -0.25, 1e-30})
	w.AddF32("ema/w", []int{2, 3}, []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5})
	w.AddF64("adam/v", nil, []float64{1e-300, 2})
	w.AddI64("sampler/pos", []int{}, []int64{-7})
	w.AddBytes("rng/pcg", []byte("pcg state"))
	w.SetMeta("note", "résumé \"quoted\" <tag>")
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	return w
}

// encodeBytes writes w to memory.
func encodeBytes(t testing.TB, w *Writer) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := w.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, b.Len())
	}
	return b.Bytes()
}
