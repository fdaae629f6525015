package checkpoints

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTripTypes(t *testing.T) {
	f32 := []float32{0, float32(math.Copysign(0, -1)), 1, -1.5, math.MaxFloat32, math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7fc00001)} // a NaN with a payload
	f64 := []float64{0, math.Copysign(0, -1), math.Pi, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.Inf(-1), math.Float64frombits(0x7ff8000000000abc)}
	i64 := []int64{0, 1, -1, math.MaxInt64, math.MinInt64}
	u8 := []byte{0, 1, 127, 128, 255}

	w := NewWriter()
	w.AddF32("f32", nil, f32)
	w.AddF32("f32/matrix", []int{3, 3}, f32)
	w.AddF32("f32/scalar", []int{}, f32[3:4])
	w.AddF32("f32/empty", []int{0, 4}, nil)
	w.AddF64("f64", []int{7}, f64)
	w.AddI64("i64", []int{5, 1}, i64)
	w.AddU8("u8", []int{5}, u8)
	w.AddBytes("blob", []byte("opaque \x00 state"))
	w.AddBytes("blob/empty", nil)
	w.Add(Tensor{Name: "raw/f16", DType: F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}) // 1, -2
	w.Add(Tensor{Name: "raw/bool", DType: Bool, Shape: []int{3}, Data: []byte{1, 0, 1}})
	w.Add(Tensor{Name: "raw/i32", DType: I32, Shape: []int{1}, Data: []byte{0xff, 0xff, 0xff, 0xff}})
	w.Add(Tensor{Name: "名前 with \"quotes\" \\ and \n newline", DType: U8, Shape: []int{1}, Data: []byte{42}})
	w.SetMeta("step_of_checkpoint", "1200")
	w.SetMeta("unicode", "ünïcødé ✓ \u2028")
	w.SetMeta("empty", "")
	w.SetMeta("json", `{"a": [1, 2]}`)
	w.SetMeta("overwritten", "first")
	w.SetMeta("overwritten", "second")

	path := filepath.Join(t.TempDir(), "all.safetensors")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Verified() {
		t.Error("Verified() = false for a file we wrote")
	}

	eqBits32 := func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	}
	eqBits64 := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	}
	check := func(name string, ok bool, shape, wantShape []int, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !ok {
			t.Errorf("%s: values differ", name)
		} else if !slices.Equal(shape, wantShape) {
			t.Errorf("%s: shape %v, want %v", name, shape, wantShape)
		}
	}
	v32, s, err := f.F32("f32")
	check("f32", eqBits32(v32, f32), s, []int{9}, err)
	v32, s, err = f.F32("f32/matrix")
	check("f32/matrix", eqBits32(v32, f32), s, []int{3, 3}, err)
	v32, s, err = f.F32("f32/scalar")
	check("f32/scalar", eqBits32(v32, f32[3:4]), s, []int{}, err)
	v32, s, err = f.F32("f32/empty")
	check("f32/empty", len(v32) == 0, s, []int{0, 4}, err)
	v64, s, err := f.F64("f64")
	check("f64", eqBits64(v64, f64), s, []int{7}, err)
	vi, s, err := f.I64("i64")
	check("i64", slices.Equal(vi, i64), s, []int{5, 1}, err)
	vb, s, err := f.U8("u8")
	check("u8", bytes.Equal(vb, u8), s, []int{5}, err)
	vb, s, err = f.U8("blob")
	check("blob", string(vb) == "opaque \x00 state", s, []int{14}, err)
	vb, s, err = f.U8("blob/empty")
	check("blob/empty", len(vb) == 0, s, []int{0}, err)
	vb, s, err = f.U8("名前 with \"quotes\" \\ and \n newline")
	check("unicode name", bytes.Equal(vb, []byte{42}), s, []int{1}, err)

	raw := []struct {
		name  string
		dtype DType
		data  []byte
	}{
		{"raw/f16", F16, []byte{0x00, 0x3c, 0x00, 0xc0}},
		{"raw/bool", Bool, []byte{1, 0, 1}},
		{"raw/i32", I32, []byte{0xff, 0xff, 0xff, 0xff}},
	}
	for _, r := range raw {
		tn, ok := f.Tensor(r.name)
		if !ok || tn.DType != r.dtype || !bytes.Equal(tn.Data, r.data) {
			t.Errorf("Tensor(%q) = %+v, %v", r.name, tn, ok)
		}
	}

	wantMeta := map[string]string{
		"step_of_checkpoint": "1200", "unicode": "ünïcødé ✓ \u2028", "empty": "", "json": `{"a": [1, 2]}`,
		"overwritten": "second", MetaFormat: "1",
	}
	for k, v := range wantMeta {
		if got, ok := f.Meta(k); !ok || got != v {
			t.Errorf("Meta(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
	if got := len(f.Metadata()); got != len(wantMeta)+1 { // + dmmd.checksum
		t.Errorf("%d metadata entries, want %d: %v", got, len(wantMeta)+1, f.Metadata())
	}
	if _, ok := f.Meta("absent"); ok {
		t.Error("Meta(absent) reported present")
	}
	if got, want := len(f.Names()), 13; got != want || !slices.IsSorted(f.Names()) {
		t.Errorf("Names() = %q, want %d sorted names", f.Names(), want)
	}
}

// The Add methods copy: changing the caller's buffer after Add must not change the file.
func TestWriterSnapshots(t *testing.T) {
	p := []float32{1, 2, 3}
	raw := []byte{1, 2}
	shape := []int{2}
	w := NewWriter()
	w.AddF32("p", nil, p)
	w.Add(Tensor{Name: "raw", DType: U8, Shape: shape, Data: raw})
	before := encodeBytes(t, w)
	p[0], raw[0], shape[0] = 99, 99, 1
	if after := encodeBytes(t, w); !bytes.Equal(before, after) {
		t.Fatal("file changed after the caller modified its buffers")
	}
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *Writer)
		want  string
	}{
		{"duplicate", func(w *Writer) { w.AddF32("a", nil, []float32{1}); w.AddI64("a", nil, []int64{1}) }, `tensor "a" added twice`},
		{"empty name", func(w *Writer) { w.AddF32("", nil, []float32{1}) }, `invalid tensor name ""`},
		{"metadata name", func(w *Writer) { w.AddBytes(MetadataKey, nil) }, `invalid tensor name "__metadata__"`},
		{"invalid utf8 name", func(w *Writer) { w.AddBytes("a\xff", nil) }, `invalid tensor name`},
		{"shape too small", func(w *Writer) { w.AddF32("a", []int{2, 2}, []float32{1, 2, 3}) }, `shape [2 2] does not hold 3 values`},
		{"negative dim", func(w *Writer) { w.AddF64("a", []int{-1}, []float64{1}) }, `shape [-1] does not hold 1 values`},
		{"raw bytes short", func(w *Writer) { w.Add(Tensor{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}) }, `needs 8 bytes, got 7`},
		{"unknown dtype", func(w *Writer) { w.Add(Tensor{Name: "a", DType: "Q4", Shape: []int{1}, Data: []byte{1}}) }, `unknown dtype "Q4"`},
		{"overflowing shape", func(w *Writer) {
			w.Add(Tensor{Name: "a", DType: F64, Shape: []int{1 << 40, 1 << 40}, Data: nil})
		}, `too many`},
		{"reserved format", func(w *Writer) { w.SetMeta(MetaFormat, "2") }, `metadata key "dmmd.format" is reserved`},
		{"reserved checksum", func(w *Writer) { w.SetMeta(MetaChecksum, "x") }, `reserved`},
		{"reserved step", func(w *Writer) { w.SetMeta(MetaStep, "1") }, `reserved`},
		{"empty key", func(w *Writer) { w.SetMeta("", "x") }, `invalid metadata entry`},
		{"invalid utf8 value", func(w *Writer) { w.SetMeta("k", "\xc3") }, `invalid metadata entry`},
		{"first error wins", func(w *Writer) { w.AddF32("", nil, nil); w.SetMeta(MetaFormat, "") }, `invalid tensor name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter()
			tt.build(w)
			err := w.Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "checkpoints: ") {
				t.Fatalf("Err() = %v, want it to contain %q", err, tt.want)
			}
			if _, werr := w.WriteTo(&bytes.Buffer{}); werr != err {
				t.Errorf("WriteTo error = %v, want %v", werr, err)
			}
			path := filepath.Join(t.TempDir(), "x.safetensors")
			if werr := w.WriteFile(path); werr != err {
				t.Errorf("WriteFile error = %v, want %v", werr, err)
			}
		})
	}
}

func TestGetterErrors(t *testing.T) {
	f, err := Parse("mem.safetensors", encodeBytes(t, sampleWriter(t)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"missing", func() error { _, _, err := f.F32("nope"); return err }, `mem.safetensors: no tensor "nope"`},
		{"F32 of F64", func() error { _, _, err := f.F32("adam/v"); return err }, `tensor "adam/v" is F64, not F32`},
		{"F64 of F32", func() error { _, _, err := f.F64("params/w"); return err }, `is F32, not F64`},
		{"I64 of U8", func() error { _, _, err := f.I64("rng/pcg"); return err }, `is U8, not I64`},
		{"U8 of I64", func() error { _, _, err := f.U8("sampler/pos"); return err }, `is I64, not U8`},
		{"F32Into length", func() error { return f.F32Into("params/w", make([]float32, 5)) }, `has 6 elements, destination has 5`},
		{"F32Into dtype", func() error { return f.F32Into("adam/v", make([]float32, 2)) }, `is F64, not F32`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	dst := make([]float32, 6)
	if err := f.F32Into("params/w", dst); err != nil || dst[2] != 3.5 {
		t.Errorf("F32Into = %v, %v", dst, err)
	}
	if _, ok := f.Tensor("nope"); ok {
		t.Error("Tensor(nope) reported present")
	}
}

// Tensors are laid out largest element first, so each is aligned to its element size in the file.
func TestLayoutAlignment(t *testing.T) {
	w := NewWriter()
	w.AddBytes("u8", []byte{1, 2, 3})
	w.AddF32("f32", nil, []float32{1, 2, 3})
	w.AddF64("f64", nil, []float64{1})
	w.Add(Tensor{Name: "f16", DType: F16, Shape: []int{1}, Data: []byte{0, 0x3c}})
	w.AddI64("i64", nil, []int64{1})
	b := encodeBytes(t, w)
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Fatalf("header length %d is not a multiple of 8", n)
	}
	f, err := Parse("mem", b, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range f.Names() {
		e := f.tensors[name]
		if (8+int(n)+e.begin)%e.dtype.Size() != 0 {
			t.Errorf("%s (%s) starts at file offset %d", name, e.dtype, 8+int(n)+e.begin)
		}
	}
	if got := f.tensors["f64"].begin; got != 0 {
		t.Errorf("f64 starts at %d, want 0 (first added 8-byte tensor)", got)
	}
	if got := f.tensors["i64"].begin; got != 8 {
		t.Errorf("i64 starts at %d, want 8 (add order kept within a size)", got)
	}
}
