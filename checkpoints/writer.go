package checkpoints

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"unicode/utf8"
)

// A Writer collects tensors and metadata for one safetensors file.
//
// The Add methods copy their data, so the caller may keep training on its buffers as soon as they return.
// They never fail on their own: the first mistake (a duplicate name, a shape that does not match the data, ...)
// is kept and returned by [Writer.Err], [Writer.WriteTo], [Writer.WriteFile] and [Run.Save].
// The zero Writer is ready to use.
type Writer struct {
	tensors []Tensor
	names   map[string]bool
	meta    map[string]string
	err     error
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{} }

// Err returns the first error recorded by an Add or SetMeta call, or nil.
func (w *Writer) Err() error { return w.err }

func (w *Writer) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("checkpoints: "+format, args...)
	}
}

// Add adds a tensor of any known dtype; t.Data is copied and must hold exactly prod(t.Shape)*t.DType.Size()
// little-endian bytes.
func (w *Writer) Add(t Tensor) {
	t.Data = bytes.Clone(t.Data)
	t.Shape = cloneInts(t.Shape)
	w.add(t)
}

func (w *Writer) add(t Tensor) {
	switch {
	case w.err != nil:
		return
	case t.Name == "" || t.Name == MetadataKey || !utf8.ValidString(t.Name):
		w.fail("invalid tensor name %q", t.Name)
		return
	case w.names[t.Name]:
		w.fail("tensor %q added twice", t.Name)
		return
	case t.DType.Size() == 0:
		w.fail("tensor %q: unknown dtype %q", t.Name, t.DType)
		return
	}
	n, err := byteLen(t.Shape, t.DType.Size())
	if err != nil {
		w.fail("tensor %q: %v", t.Name, err)
		return
	}
	if n != len(t.Data) {
		w.fail("tensor %q: shape %v of %s needs %d bytes, got %d", t.Name, t.Shape, t.DType, n, len(t.Data))
		return
	}
	if w.names == nil {
		w.names = make(map[string]bool)
	}
	w.names[t.Name] = true
	w.tensors = append(w.tensors, t)
}

// shapeFor resolves a typed helper's shape: nil means one dimension of length n.
func (w *Writer) shapeFor(name string, shape []int, n int) []int {
	if shape == nil {
		return []int{n}
	}
	if k, err := numElements(shape); err != nil || k != n {
		w.fail("tensor %q: shape %v does not hold %d values", name, shape, n)
		return nil
	}
	return cloneInts(shape)
}

// AddF32 adds a float32 tensor. A nil shape means one dimension of len(v); pass []int{} for a scalar.
func (w *Writer) AddF32(name string, shape []int, v []float32) {
	if shape = w.shapeFor(name, shape, len(v)); shape == nil {
		return
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	w.add(Tensor{Name: name, DType: F32, Shape: shape, Data: b})
}

// AddF64 adds a float64 tensor. A nil shape means one dimension of len(v).
func (w *Writer) AddF64(name string, shape []int, v []float64) {
	if shape = w.shapeFor(name, shape, len(v)); shape == nil {
		return
	}
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	w.add(Tensor{Name: name, DType: F64, Shape: shape, Data: b})
}

// AddI64 adds an int64 tensor. A nil shape means one dimension of len(v).
func (w *Writer) AddI64(name string, shape []int, v []int64) {
	if shape = w.shapeFor(name, shape, len(v)); shape == nil {
		return
	}
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	w.add(Tensor{Name: name, DType: I64, Shape: shape, Data: b})
}

// AddU8 adds a uint8 tensor. A nil shape means one dimension of len(v).
func (w *Writer) AddU8(name string, shape []int, v []byte) {
	if shape = w.shapeFor(name, shape, len(v)); shape == nil {
		return
	}
	w.add(Tensor{Name: name, DType: U8, Shape: shape, Data: bytes.Clone(v)})
}

// AddBytes adds an opaque byte string as a one-dimensional U8 tensor, for state that is not a tensor: an RNG's
// MarshalBinary output, a data sampler's position, a JSON blob. Read it back with [File.U8].
func (w *Writer) AddBytes(name string, b []byte) { w.AddU8(name, nil, b) }

// SetMeta sets a metadata entry (safetensors metadata values are strings). The keys dmmd.format,
// dmmd.checksum and dmmd.step are reserved; a second SetMeta of the same key replaces the value.
func (w *Writer) SetMeta(key, value string) {
	switch {
	case w.err != nil:
		return
	case key == MetaFormat || key == MetaChecksum || key == MetaStep:
		w.fail("metadata key %q is reserved", key)
		return
	case key == "" || !utf8.ValidString(key) || !utf8.ValidString(value):
		w.fail("invalid metadata entry %q = %q", key, value)
		return
	}
	w.setMeta(key, value)
}

func (w *Writer) setMeta(key, value string) {
	if w.meta == nil {
		w.meta = make(map[string]string)
	}
	w.meta[key] = value
}

// encoded is a Writer laid out as a file: the padded header and the tensors in data order.
type encoded struct {
	header  []byte
	tensors []Tensor
	size    int64 // whole file
}

// encode lays the tensors out (largest elements first, so every tensor is aligned to its element size when the
// buffer is), computes the checksum and builds the canonical header.
func (w *Writer) encode() (*encoded, error) {
	if w.err != nil {
		return nil, w.err
	}
	ts := slices.Clone(w.tensors)
	slices.SortStableFunc(ts, func(a, b Tensor) int { return b.DType.Size() - a.DType.Size() })

	idx := make([]indexEntry, len(ts))
	data := make([][]byte, len(ts))
	off := 0
	for i, t := range ts {
		idx[i] = indexEntry{name: t.Name, dtype: t.DType, shape: t.Shape, begin: off, end: off + len(t.Data)}
		data[i] = t.Data
		off += len(t.Data)
	}
	meta := maps.Clone(w.meta)
	if meta == nil {
		meta = make(map[string]string, 2)
	}
	meta[MetaFormat] = formatString
	sortIndex(idx) // only reorders zero-size tensors, which hold no data
	meta[MetaChecksum] = checksum(idx, meta, off, data...)
	h := encodeHeader(idx, meta)
	if len(h) > maxHeaderSize {
		return nil, errors.New("checkpoints: header too large")
	}
	return &encoded{header: h, tensors: ts, size: int64(8 + len(h) + off)}, nil
}

// WriteTo writes the safetensors file to out. It implements io.WriterTo; the Writer can be written again.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	e, err := w.encode()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: out}
	bw := bufio.NewWriterSize(cw, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(e.header)))
	bw.Write(n[:])
	bw.Write(e.header)
	for _, t := range e.tensors {
		bw.Write(t.Data)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("checkpoints: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteFile writes the safetensors file to path atomically: to a temporary file in the same directory, fsynced,
// then renamed over path, and the directory fsynced. A crash leaves the old file (or none), never a torn one.
// An existing file at path is replaced.
func (w *Writer) WriteFile(path string) error {
	if w.err != nil {
		return w.err
	}
	return writeAtomic(path, func(f io.Writer) error {
		_, err := w.WriteTo(f)
		return err
	})
}
