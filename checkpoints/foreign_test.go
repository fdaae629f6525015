package checkpoints

import (
	"errors"
	"slices"
	"testing"
)

// testdata/foreign.safetensors was written by another safetensors implementation (see testdata/README.md).
func TestForeignFile(t *testing.T) {
	const path = "testdata/foreign.safetensors"
	if _, err := ReadFile(path); !errors.Is(err, ErrNoChecksum) {
		t.Fatalf("strict read: %v, want ErrNoChecksum", err)
	}
	f, err := ReadFileWith(path, ReadOptions{AllowNoChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Verified() {
		t.Error("Verified() = true")
	}
	if v, _ := f.Meta("format"); v != "pt" {
		t.Errorf(`Meta("format") = %q`, v)
	}
	if err := f.CheckShapes(map[string][]int{"weight": {2, 3}, "bias": {3}, "steps": {2}, "mask": {3}}); err != nil {
		t.Fatal(err)
	}
	w, _, err := f.F32("weight")
	if err != nil || !slices.Equal(w, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("weight = %v, %v", w, err)
	}
	b, _, err := f.F32("bias")
	if err != nil || !slices.Equal(b, []float32{-1, 0.5, 1e-3}) {
		t.Errorf("bias = %v, %v", b, err)
	}
	s, _, err := f.I64("steps")
	if err != nil || !slices.Equal(s, []int64{7, -9}) {
		t.Errorf("steps = %v, %v", s, err)
	}
	m, _, err := f.U8("mask")
	if err != nil || !slices.Equal(m, []byte{1, 0, 255}) {
		t.Errorf("mask = %v, %v", m, err)
	}
}
