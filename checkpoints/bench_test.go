package checkpoints

import (
	"fmt"
	"io"
	"testing"
)

// benchState is a checkpoint-sized training state: parameters, EMA parameters and two Adam moments, each
// 5M float32 in 4 tensors (20M floats, 80 MB in all).
type benchState struct {
	names []string
	bufs  [][]float32
}

func newBenchState() *benchState {
	s := &benchState{}
	for _, set := range []string{"params", "ema", "adam/m", "adam/v"} {
		for layer := range 4 {
			buf := make([]float32, 5_000_000/4)
			for i := range buf {
				buf[i] = float32(i%1000) * 1e-3
			}
			s.names = append(s.names, fmt.Sprintf("%s/layer%d", set, layer))
			s.bufs = append(s.bufs, buf)
		}
	}
	return s
}

func (s *benchState) writer() *Writer {
	w := NewWriter()
	for i, n := range s.names {
		w.AddF32(n, nil, s.bufs[i])
	}
	w.AddBytes("rng", make([]byte, 20))
	return w
}

// reportSize sets the bytes per operation to the file size and reports the size; call it after the loop
// (b.Loop resets reported metrics when it starts).
func reportSize(b *testing.B, w *Writer) {
	n, err := w.WriteTo(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportMetric(float64(n)/1e6, "MB/file")
}

// BenchmarkSave: snapshot the state into a Writer and Run.Save it (temp file, fsync, rename, dir fsync, latest).
func BenchmarkSave(b *testing.B) {
	s := newBenchState()
	r, err := OpenRun(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := r.Save(int64(i%2), s.writer()); err != nil {
			b.Fatal(err)
		}
	}
	reportSize(b, s.writer())
}

// BenchmarkLoad: Run.Latest (read, validate, verify the checksum) and copy every tensor back into the state.
func BenchmarkLoad(b *testing.B) {
	s := newBenchState()
	r, err := OpenRun(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	w := s.writer()
	if _, err := r.Save(1, w); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ld, err := r.Latest()
		if err != nil {
			b.Fatal(err)
		}
		for i, n := range s.names {
			if err := ld.File.F32Into(n, s.bufs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportSize(b, w)
}

// BenchmarkEncode: the Writer alone (float32 to bytes, checksum, header) into io.Discard, no disk.
func BenchmarkEncode(b *testing.B) {
	s := newBenchState()
	for b.Loop() {
		if _, err := s.writer().WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	reportSize(b, s.writer())
}

// BenchmarkParse: validating and verifying a file already in memory, no disk, no copying out.
func BenchmarkParse(b *testing.B) {
	s := newBenchState()
	w := s.writer()
	var buf writeBuffer
	w.WriteTo(&buf)
	for b.Loop() {
		if _, err := Parse("bench", buf, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportSize(b, w)
}

type writeBuffer []byte

func (w *writeBuffer) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
