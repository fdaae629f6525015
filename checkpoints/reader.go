package checkpoints

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
)

// ErrCorrupt is wrapped by every error about a file's contents: truncated, malformed, failing its checksum.
var ErrCorrupt = errors.New("corrupt")

// ErrNoChecksum is wrapped by the error for a structurally valid file that lacks dmmd's checksum (a file
// written by another program); read such files with ReadOptions.AllowNoChecksum.
var ErrNoChecksum = errors.New("no dmmd.checksum (not written by dmmd?)")

// ReadOptions adjusts how strictly a file is checked.
type ReadOptions struct {
	// AllowNoChecksum accepts a valid safetensors file that has neither dmmd.format nor dmmd.checksum, such
	// as weights saved by safetensors.torch.save_file. A file that has either key must still have both and
	// verify.
	AllowNoChecksum bool
}

// File is a safetensors file read into memory and validated.
type File struct {
	path     string
	data     []byte // the data buffer
	tensors  map[string]indexEntry
	meta     map[string]string
	verified bool
}

// ReadFile reads and validates the safetensors file at path. It requires dmmd's format version and checksum;
// use [ReadFileWith] for files written by other programs. Errors name the file, and those about its
// contents wrap [ErrCorrupt].
func ReadFile(path string) (*File, error) { return ReadFileWith(path, ReadOptions{}) }

// ReadFileWith is ReadFile with options.
func ReadFileWith(path string, o ReadOptions) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return Parse(path, b, o)
}

// Parse validates a whole safetensors file held in b; name is used in errors. The File keeps b.
func Parse(name string, b []byte, o ReadOptions) (*File, error) {
	l, err := parseLayout(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %s: %w: %w", name, ErrCorrupt, err)
	}
	if l.meta == nil {
		l.meta = map[string]string{}
	}
	f := &File{path: name, data: b[l.dataStart:], tensors: make(map[string]indexEntry, len(l.index)), meta: l.meta}
	for _, e := range l.index {
		f.tensors[e.name] = e
	}
	format, hasFormat := l.meta[MetaFormat]
	sum, hasSum := l.meta[MetaChecksum]
	if !hasFormat && !hasSum {
		if o.AllowNoChecksum {
			return f, nil
		}
		return nil, fmt.Errorf("checkpoints: %s: %w", name, ErrNoChecksum)
	}
	if !hasFormat || !hasSum {
		return nil, fmt.Errorf("checkpoints: %s: %w: has only one of %s and %s", name, ErrCorrupt, MetaFormat, MetaChecksum)
	}
	v, err := strconv.Atoi(format)
	if err != nil || v < 1 || strconv.Itoa(v) != format {
		return nil, fmt.Errorf("checkpoints: %s: %w: bad %s %q", name, ErrCorrupt, MetaFormat, format)
	}
	if !validChecksumSyntax(sum) {
		return nil, fmt.Errorf("checkpoints: %s: %w: malformed %s %q", name, ErrCorrupt, MetaChecksum, sum)
	}
	// The checksum covers dmmd.format too, so check it first: a flipped version digit is corruption.
	if got := checksum(l.index, l.meta, len(f.data), f.data); got != sum {
		return nil, fmt.Errorf("checkpoints: %s: %w: checksum mismatch: header says %s, contents hash to %s", name, ErrCorrupt, sum, got)
	}
	if v > FormatVersion {
		return nil, fmt.Errorf("checkpoints: %s: format version %d is newer than this program reads (%d)", name, v, FormatVersion)
	}
	if !bytes.Equal(b[8:l.dataStart], encodeHeader(l.index, l.meta)) {
		return nil, fmt.Errorf("checkpoints: %s: %w: header bytes are not the canonical encoding of its contents (edited or corrupted)", name, ErrCorrupt)
	}
	f.verified = true
	return f, nil
}

// Path returns the name the file was read from.
func (f *File) Path() string { return f.path }

// Verified reports whether the file carried a dmmd checksum that matched (false only for files read with
// AllowNoChecksum that had none).
func (f *File) Verified() bool { return f.verified }

// Names returns the tensor names, sorted.
func (f *File) Names() []string { return slices.Sorted(maps.Keys(f.tensors)) }

// Meta returns a metadata value and whether it is present.
func (f *File) Meta(key string) (string, bool) {
	v, ok := f.meta[key]
	return v, ok
}

// Metadata returns a copy of all metadata, the dmmd.* entries included.
func (f *File) Metadata() map[string]string { return maps.Clone(f.meta) }

// Shapes returns every tensor's shape by name.
func (f *File) Shapes() map[string][]int {
	m := make(map[string][]int, len(f.tensors))
	for n, e := range f.tensors {
		m[n] = slices.Clone(e.shape)
	}
	return m
}

// Tensor returns the named tensor. Its Data is the file's own memory: read it, do not modify it.
func (f *File) Tensor(name string) (Tensor, bool) {
	e, ok := f.tensors[name]
	if !ok {
		return Tensor{}, false
	}
	return Tensor{Name: name, DType: e.dtype, Shape: slices.Clone(e.shape), Data: f.data[e.begin:e.end:e.end]}, true
}

func (f *File) typed(name string, want DType) (indexEntry, []byte, error) {
	e, ok := f.tensors[name]
	if !ok {
		return e, nil, fmt.Errorf("checkpoints: %s: no tensor %q", f.path, name)
	}
	if e.dtype != want {
		return e, nil, fmt.Errorf("checkpoints: %s: tensor %q is %s, not %s", f.path, name, e.dtype, want)
	}
	return e, f.data[e.begin:e.end], nil
}

// F32 returns a copy of the named F32 tensor's values and its shape.
func (f *File) F32(name string) ([]float32, []int, error) {
	e, b, err := f.typed(name, F32)
	if err != nil {
		return nil, nil, err
	}
	v := make([]float32, len(b)/4)
	decodeF32(v, b)
	return v, slices.Clone(e.shape), nil
}

// F32Into copies the named F32 tensor into dst, which must have exactly as many elements: the usual way to
// restore a model's parameters into the buffers it already has.
func (f *File) F32Into(name string, dst []float32) error {
	_, b, err := f.typed(name, F32)
	if err != nil {
		return err
	}
	if len(b)/4 != len(dst) {
		return fmt.Errorf("checkpoints: %s: tensor %q has %d elements, destination has %d", f.path, name, len(b)/4, len(dst))
	}
	decodeF32(dst, b)
	return nil
}

func decodeF32(dst []float32, b []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// F64 returns a copy of the named F64 tensor's values and its shape.
func (f *File) F64(name string) ([]float64, []int, error) {
	e, b, err := f.typed(name, F64)
	if err != nil {
		return nil, nil, err
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, slices.Clone(e.shape), nil
}

// I64 returns a copy of the named I64 tensor's values and its shape.
func (f *File) I64(name string) ([]int64, []int, error) {
	e, b, err := f.typed(name, I64)
	if err != nil {
		return nil, nil, err
	}
	v := make([]int64, len(b)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, slices.Clone(e.shape), nil
}

// U8 returns a copy of the named U8 tensor's bytes and its shape (for [Writer.AddBytes] blobs, the bytes).
func (f *File) U8(name string) ([]byte, []int, error) {
	e, b, err := f.typed(name, U8)
	if err != nil {
		return nil, nil, err
	}
	return slices.Clone(b), slices.Clone(e.shape), nil
}
