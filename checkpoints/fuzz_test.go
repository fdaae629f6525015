package checkpoints

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, must reject with ErrCorrupt (or, for
// a valid file without a checksum, ErrNoChecksum), and whatever it accepts must be a file the spec allows:
// valid JSON, tensors tiling the data exactly. An accepted file re-encodes and parses back the same.
func FuzzParse(f *testing.F) {
	f.Add(encodeBytes(f, sampleWriter(f)))
	w := NewWriter()
	w.AddF32("a", nil, []float32{1, -2})
	w.SetMeta("k", "v")
	f.Add(encodeBytes(f, w))
	f.Add(encodeBytes(f, NewWriter()))
	f.Add(rawFile(`{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 16)))
	f.Add(rawFile(`{"__metadata__":{"a":"b"},"x":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}  `, make([]byte, 8)))
	f.Add(rawFile(`{"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"y":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{1}))
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{}}`, []byte{1}))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil))
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255})

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse("fuzz", b, ReadOptions{AllowNoChecksum: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !strings.Contains(err.Error(), "is newer than") {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		n := int(binary.LittleEndian.Uint64(b))
		if !json.Valid(b[8 : 8+n]) {
			t.Fatalf("accepted invalid JSON %q", b[8:8+n])
		}
		total := 0
		for _, name := range file.Names() {
			tn, _ := file.Tensor(name)
			if want, err := byteLen(tn.Shape, tn.DType.Size()); err != nil || want != len(tn.Data) {
				t.Fatalf("tensor %q: %d bytes for shape %v of %s", name, len(tn.Data), tn.Shape, tn.DType)
			}
			total += len(tn.Data)
		}
		if total != len(b)-8-n {
			t.Fatalf("tensors hold %d bytes, data buffer has %d", total, len(b)-8-n)
		}
		// Re-encode (dmmd keys aside, which the Writer sets itself) and parse strictly. The format allows
		// empty names and keys; the Writer refuses them.
		if _, ok := file.tensors[""]; ok {
			return
		}
		if _, ok := file.meta[""]; ok {
			return
		}
		w := NewWriter()
		for _, name := range file.Names() {
			tn, _ := file.Tensor(name)
			w.Add(tn)
		}
		for k, v := range file.Metadata() {
			if k != MetaFormat && k != MetaChecksum && k != MetaStep {
				w.SetMeta(k, v)
			}
		}
		if w.Err() != nil {
			t.Fatalf("re-encoding an accepted file: %v", w.Err())
		}
		again, err := Parse("again", encodeBytes(t, w), ReadOptions{})
		if err != nil {
			t.Fatalf("re-encoded file rejected: %v", err)
		}
		for _, name := range file.Names() {
			x, _ := file.Tensor(name)
			y, ok := again.Tensor(name)
			if !ok || x.DType != y.DType || !bytes.Equal(x.Data, y.Data) || !slices.Equal(x.Shape, y.Shape) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}
