package checkpoints

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestByteLayout builds the expected bytes of a tiny file by hand, from the safetensors spec and the checksum
// definition in docs/checkpoints.md, and compares them with what the Writer produces. The metadata value
// varies in length so that every amount of padding (0 to 7 spaces) is exercised.
func TestByteLayout(t *testing.T) {
	data := []byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0} // float32 1, -2, little-endian
	pads := map[int]bool{}
	for vlen := 1; vlen <= 8; vlen++ {
		v := strings.Repeat("v", vlen)

		// The checksum, from its definition.
		var c bytes.Buffer
		u64 := func(x uint64) { binary.Write(&c, binary.LittleEndian, x) }
		str := func(s string) { u64(uint64(len(s))); c.WriteString(s) }
		str("dmmd.checksum.v1")
		u64(1)                 // one tensor
		str("a")               // name
		str("F32")             // dtype
		u64(1)                 // rank
		u64(2)                 // shape
		u64(0)                 // begin
		u64(8)                 // end
		u64(2)                 // metadata entries other than the checksum, sorted by key
		str("dmmd.format")     // key
		str("1")               // value
		str("k")               // key
		str(v)                 // value
		u64(uint64(len(data))) // data length
		c.Write(data)          // data
		sum := sha256.Sum256(c.Bytes())

		header := `{"__metadata__":{"dmmd.checksum":"sha256:` + hex.EncodeToString(sum[:]) + `","dmmd.format":"1","k":"` + v + `"},` +
			`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
		pad := (8 - len(header)%8) % 8
		pads[pad] = true
		header += strings.Repeat(" ", pad)
		var want []byte
		want = binary.LittleEndian.AppendUint64(want, uint64(len(header)))
		want = append(want, header...)
		want = append(want, data...)

		w := NewWriter()
		w.AddF32("a", nil, []float32{1, -2})
		w.SetMeta("k", v)
		if got := encodeBytes(t, w); !bytes.Equal(got, want) {
			t.Fatalf("value %q:\n got %q\nwant %q", v, got, want)
		}
		if _, err := Parse("hand-made", want, ReadOptions{}); err != nil {
			t.Fatalf("value %q: hand-made file rejected: %v", v, err)
		}
	}
	if len(pads) != 8 {
		t.Errorf("exercised paddings %v, want all of 0..7", pads)
	}
}

// rawFile assembles a file from a header string and data, without padding.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// The example in the reference implementation's documentation: a header without metadata or padding.
func TestReferenceExample(t *testing.T) {
	b := rawFile(`{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 16))
	if b[0] != '<' {
		t.Fatalf("header length byte %q, the reference example has '<'", b[0])
	}
	f, err := Parse("ref", b, ReadOptions{AllowNoChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if tn, ok := f.Tensor("test"); !ok || tn.DType != I32 || len(tn.Data) != 16 || fmt.Sprint(tn.Shape) != "[2 2]" {
		t.Errorf("Tensor(test) = %+v, %v", tn, ok)
	}
	if f.Verified() {
		t.Error("Verified() = true for a file without a checksum")
	}
	_, err = Parse("ref.safetensors", b, ReadOptions{})
	if !errors.Is(err, ErrNoChecksum) || !strings.Contains(err.Error(), "ref.safetensors") {
		t.Errorf("strict Parse of a foreign file: %v, want ErrNoChecksum naming the file", err)
	}
}

func TestParseForeign(t *testing.T) {
	f8 := make([]byte, 8)
	tests := []struct {
		name   string
		header string
		data   []byte
		want   string // "" for success, else a substring of the error
	}{
		{"empty object", `{}`, nil, ""},
		{"padded", `{}      `, nil, ""},
		{"whitespace", " \t", nil, "does not start with '{'"},
		{"spaced JSON", "{ \"a\" :\n{ \"dtype\" : \"F32\" , \"shape\" : [ 2 ] , \"data_offsets\" : [ 0 , 8 ] } }\t\r\n ", f8, ""},
		{"out of order", `{"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, f8, ""},
		{"metadata null", `{"__metadata__":null,"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, f8, ""},
		{"metadata", `{"__metadata__":{"format":"pt"},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, f8, ""},
		{"unknown entry field", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":[1]}}`, f8, ""},
		{"zero-size tensors", `{"z":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"y":{"dtype":"U8","shape":[3,0],"data_offsets":[0,0]}}`, nil, ""},
		{"escaped name", `{"\u00e9\n":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}`, f8, ""},

		{"not an object", `[]`, nil, "does not start with '{'"},
		{"leading space", ` {}`, nil, "does not start with '{'"},
		{"invalid UTF-8", "{\"\xff\":{}}", nil, "not valid UTF-8"},
		{"garbage after", `{}x`, nil, "bytes after the JSON object"},
		{"two objects", `{}{}`, nil, "bytes after the JSON object"},
		{"NUL padding", "{}\x00", nil, "bytes after the JSON object"},
		{"unterminated", `{"a":`, nil, "bad header"},
		{"missing colon", `{"a" 1}`, nil, "bad header"},
		{"trailing comma", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},}`, []byte{1}, "bad header"},
		{"entry not object", `{"a":1}`, nil, "not a JSON object"},
		{"duplicate tensor", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}, `duplicate key "a"`},
		{"duplicate field", `{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}, `duplicate key "dtype"`},
		{"duplicate metadata", `{"__metadata__":{},"__metadata__":{}}`, nil, `duplicate key "__metadata__"`},
		{"duplicate metadata key", `{"__metadata__":{"k":"1","k":"2"}}`, nil, `duplicate key "k"`},
		{"missing dtype", `{"a":{"shape":[1],"data_offsets":[0,1]}}`, []byte{1}, "needs dtype, shape and data_offsets"},
		{"case of field", `{"a":{"DTYPE":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}, "needs dtype"},
		{"unknown dtype", `{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{1}, `unknown dtype "Q4"`},
		{"dtype number", `{"a":{"dtype":4,"shape":[1],"data_offsets":[0,1]}}`, []byte{1}, "dtype: not a string"},
		{"shape null", `{"a":{"dtype":"U8","shape":null,"data_offsets":[0,1]}}`, []byte{1}, "shape: not an array"},
		{"shape null dim", `{"a":{"dtype":"U8","shape":[null],"data_offsets":[0,1]}}`, []byte{1}, "null is not a non-negative integer"},
		{"negative dim", `{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{1}, "-1 is not a non-negative integer"},
		{"fractional dim", `{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}`, []byte{1}, "1.0 is not a non-negative integer"},
		{"exponent dim", `{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}`, []byte{1}, "1e0 is not a non-negative integer"},
		{"string dim", `{"a":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}}`, []byte{1}, `"1" is not a non-negative integer`},
		{"huge offset", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551615]}}`, []byte{1}, "is not a non-negative integer"},
		{"three offsets", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{1}, "data_offsets has 3 numbers"},
		{"one offset", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}}`, []byte{1}, "data_offsets has 1 numbers"},
		{"end before begin", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, []byte{1}, "end before they begin"},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f8, "shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8"},
		{"overflow", `{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, f8, "too many"},
		{"gap at start", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, f8, `tensor "a" starts at byte 4 of the data, expected 0`},
		{"overlap", `{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, f8, `tensor "b" starts at byte 4 of the data, expected 8`},
		{"gap between", `{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, f8[:6], `tensor "b" starts at byte 4 of the data, expected 2`},
		{"truncated data", `{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}`, f8[:5], "truncated: header says 8 bytes of data, file has 5"},
		{"trailing data", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, f8, "4 trailing bytes after the 4 bytes of data"},
		{"metadata number", `{"__metadata__":{"k":1}}`, nil, `"k": not a string`},
		{"metadata null value", `{"__metadata__":{"k":null}}`, nil, `"k": not a string`},
		{"metadata array", `{"__metadata__":["k"]}`, nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("foreign.safetensors", rawFile(tt.header, tt.data), ReadOptions{AllowNoChecksum: true})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("rejected a valid file: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "checkpoints: foreign.safetensors: ") || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %q: want ErrCorrupt, the file name and %q", err, tt.want)
			}
		})
	}
}

func TestParseLengthField(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty file", nil, "truncated: 0 bytes, shorter than the 8-byte header length"},
		{"short file", []byte{2, 0, 0}, "truncated: 3 bytes"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 10), "{}"...), "truncated: header length says 10 bytes, file has 2 after the length"},
		{"header too large", binary.LittleEndian.AppendUint64(nil, 100_000_001), "header length 100000001 exceeds the 100000000-byte limit"},
		{"header length 2^64-1", binary.LittleEndian.AppendUint64(nil, 1<<64-1), "exceeds"},
		{"zero header", binary.LittleEndian.AppendUint64(nil, 0), "does not start with '{'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.safetensors", tt.b, ReadOptions{AllowNoChecksum: true})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want ErrCorrupt containing %q", err, tt.want)
			}
		})
	}
}

// TestParseDmmdKeys covers the checks on dmmd's own metadata, in strict and lenient mode alike.
func TestParseDmmdKeys(t *testing.T) {
	data := []byte{1, 2, 3, 4}
	idx := []indexEntry{{name: "a", dtype: U8, shape: []int{4}, begin: 0, end: 4}}
	file := func(meta map[string]string) []byte {
		return rawFile(string(encodeHeader(idx, meta)), data)
	}
	good := func(format string) map[string]string {
		m := map[string]string{MetaFormat: format}
		m[MetaChecksum] = checksum(idx, m, len(data), data)
		return m
	}
	wrongSum := good("1")
	wrongSum[MetaChecksum] = checksum(idx, map[string]string{MetaFormat: "1", "x": "y"}, len(data), data)
	tests := []struct {
		name    string
		meta    map[string]string
		want    string
		corrupt bool
	}{
		{"good", good("1"), "", false},
		{"format only", map[string]string{MetaFormat: "1"}, "has only one of dmmd.format and dmmd.checksum", true},
		{"checksum only", map[string]string{MetaChecksum: good("1")[MetaChecksum]}, "has only one of", true},
		{"format 0", good("0"), `bad dmmd.format "0"`, true},
		{"format 01", good("01"), `bad dmmd.format "01"`, true},
		{"format x", good("x"), `bad dmmd.format "x"`, true},
		{"malformed checksum", map[string]string{MetaFormat: "1", MetaChecksum: "md5:00"}, `malformed dmmd.checksum "md5:00"`, true},
		{"uppercase checksum", map[string]string{MetaFormat: "1", MetaChecksum: strings.ToUpper(good("1")[MetaChecksum])}, "malformed", true},
		{"wrong checksum", wrongSum, "checksum mismatch: header says sha256:", true},
		{"newer format", good("2"), "format version 2 is newer than this program reads (1)", false},
	}
	for _, tt := range tests {
		for _, lenient := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lenient=%v", tt.name, lenient), func(t *testing.T) {
				f, err := Parse("d.safetensors", file(tt.meta), ReadOptions{AllowNoChecksum: lenient})
				if tt.want == "" {
					if err != nil || !f.Verified() {
						t.Fatalf("Parse: %v", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrCorrupt) != tt.corrupt ||
					!strings.HasPrefix(err.Error(), "checkpoints: d.safetensors: ") {
					t.Fatalf("error %v, want %q (ErrCorrupt: %v)", err, tt.want, tt.corrupt)
				}
			})
		}
	}
}

// A dmmd file's header must be byte-for-byte the canonical encoding of its contents, so even a change that
// decodes to the same JSON (the case of a hex digit in a \u escape, re-spaced JSON) is caught.
func TestParseCanonicalHeader(t *testing.T) {
	w := NewWriter()
	w.AddBytes("esc\x1b\x7f", []byte{1})
	w.SetMeta("ctl", "\x00\x01\b\f\n\r\t\"\\/ \u2028 ✓")
	b := encodeBytes(t, w)
	if _, err := Parse("c.safetensors", b, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"esc\u001b`+"\x7f\"")) {
		t.Fatalf("unexpected escaping in %q", b)
	}
	edits := []struct{ name, from, to string }{
		{"hex case", `\u001b`, `\u001B`},
		{"escaped slash", `/ `, `\/ `},
		{"space in JSON", `"dtype":"U8"`, `"dtype": "U8"`},
		{"raw tab", `\t`, "\t"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			c := bytes.Replace(b, []byte(e.from), []byte(e.to), 1)
			if bytes.Equal(c, b) {
				t.Fatalf("%q not found in %q", e.from, b)
			}
			// Keep the header length right so only the canonical check can object: trim or pad spaces.
			n := int(binary.LittleEndian.Uint64(c))
			switch d := len(c) - len(b); {
			case d > 0 && bytes.HasSuffix(c[:8+n+d], bytes.Repeat([]byte(" "), d)):
				c = append(c[:8+n], c[8+n+d:]...)
			case d < 0:
				c = append(c[:8+n+d], append(bytes.Repeat([]byte(" "), -d), c[8+n+d:]...)...)
			case d > 0:
				binary.LittleEndian.PutUint64(c, uint64(n+d))
			}
			_, err := Parse("c.safetensors", c, ReadOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("edited header accepted: %v", err)
			}
			if _, lerr := Parse("c.safetensors", c, ReadOptions{AllowNoChecksum: true}); lerr == nil {
				t.Fatal("edited header accepted in lenient mode")
			}
			t.Log(err)
		})
	}
}
