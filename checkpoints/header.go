package checkpoints

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encodeHeader returns the canonical header of a file with the given index (in canonical order) and metadata:
// compact JSON, the metadata first with its keys sorted, then the tensors in index order, strings escaped by
// appendJSONString, padded with spaces to a multiple of 8 bytes. Files with dmmd keys must have exactly this
// header, so no change to the header bytes goes unnoticed, not even one that decodes to the same JSON.
func encodeHeader(idx []indexEntry, meta map[string]string) []byte {
	h := []byte(`{"` + MetadataKey + `":{`)
	for i, k := range slices.Sorted(maps.Keys(meta)) {
		if i > 0 {
			h = append(h, ',')
		}
		h = appendJSONString(h, k)
		h = append(h, ':')
		h = appendJSONString(h, meta[k])
	}
	h = append(h, '}')
	for _, e := range idx {
		h = append(h, ',')
		h = appendJSONString(h, e.name)
		h = append(h, `:{"dtype":"`...)
		h = append(h, e.dtype...)
		h = append(h, `","shape":[`...)
		for j, d := range e.shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, int64(e.begin), 10)
		h = append(h, ',')
		h = strconv.AppendInt(h, int64(e.end), 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h
}

// appendJSONString appends s (valid UTF-8) as a JSON string: '"' and '\\' escaped with a backslash, \n \r
// \t as such, other control characters as \u00xx with lowercase hex, everything else as raw UTF-8. This is
// dmmd's own definition, independent of encoding/json's choices, so canonical headers stay canonical.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// maxHeaderSize is the largest JSON header accepted, as in the reference implementation (100 MB).
const maxHeaderSize = 100_000_000

// layout is a parsed and validated file: where the data starts, the index in canonical order and the metadata.
type layout struct {
	dataStart int
	index     []indexEntry
	meta      map[string]string
}

// parseLayout validates everything about b that the safetensors format defines: the header length, the JSON
// header (UTF-8, one object, no duplicate keys, string metadata), every tensor's dtype, shape and offsets, and
// that the offsets tile the data buffer exactly. It returns a description of the first problem found.
func parseLayout(b []byte) (*layout, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n64 := binary.LittleEndian.Uint64(b)
	if n64 > maxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n64, maxHeaderSize)
	}
	n := int(n64)
	if n > len(b)-8 {
		return nil, fmt.Errorf("truncated: header length says %d bytes, file has %d after the length", n, len(b)-8)
	}
	h := b[8 : 8+n]
	if !utf8.Valid(h) {
		return nil, errors.New("header is not valid UTF-8")
	}
	if n == 0 || h[0] != '{' {
		return nil, errors.New("header does not start with '{'")
	}
	l := &layout{dataStart: 8 + n}
	err := walkObject(h, func(key string, val []byte) error {
		if key == MetadataKey {
			m, err := parseMetadata(val)
			l.meta = m
			return err
		}
		e, err := parseEntry(key, val)
		l.index = append(l.index, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bad header: %w", err)
	}
	sortIndex(l.index)
	end := 0
	for _, e := range l.index {
		if e.begin != end {
			return nil, fmt.Errorf("bad header: tensor %q starts at byte %d of the data, expected %d (gap or overlap)", e.name, e.begin, end)
		}
		end = e.end
	}
	if have := len(b) - l.dataStart; have != end {
		if have < end {
			return nil, fmt.Errorf("truncated: header says %d bytes of data, file has %d", end, have)
		}
		return nil, fmt.Errorf("%d trailing bytes after the %d bytes of data the header describes", have-end, end)
	}
	return l, nil
}

// parseEntry parses one tensor's {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}.
func parseEntry(name string, val []byte) (indexEntry, error) {
	e := indexEntry{name: name}
	var haveDType, haveShape, haveOffsets bool
	var offs []int
	err := walkObject(val, func(key string, v []byte) error {
		var err error
		switch key {
		case "dtype":
			haveDType = true
			var s string
			if s, err = jsonString(v); err == nil {
				e.dtype = DType(s)
				if e.dtype.Size() == 0 {
					err = fmt.Errorf("unknown dtype %q", s)
				}
			}
		case "shape":
			haveShape = true
			e.shape, err = uintArray(v)
		case "data_offsets":
			haveOffsets = true
			offs, err = uintArray(v)
			if err == nil && len(offs) != 2 {
				err = fmt.Errorf("data_offsets has %d numbers, want 2", len(offs))
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err == nil && !(haveDType && haveShape && haveOffsets) {
		err = errors.New("needs dtype, shape and data_offsets")
	}
	if err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	e.begin, e.end = offs[0], offs[1]
	if e.end < e.begin {
		return e, fmt.Errorf("tensor %q: data_offsets [%d, %d] end before they begin", name, e.begin, e.end)
	}
	want, err := byteLen(e.shape, e.dtype.Size())
	if err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	if want != e.end-e.begin {
		return e, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", name, e.shape, e.dtype, want, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// parseMetadata parses the __metadata__ object (or null): string keys to string values.
func parseMetadata(val []byte) (map[string]string, error) {
	m := map[string]string{}
	if string(val) == "null" {
		return m, nil
	}
	err := walkObject(val, func(key string, v []byte) error {
		s, err := jsonString(v)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", MetadataKey, key, err)
		}
		m[key] = s
		return nil
	})
	return m, err
}

// walkObject calls fn for each member of the JSON object raw, in order. It rejects anything but exactly one
// object (surrounding whitespace aside) and duplicate keys, which encoding/json would silently merge.
func walkObject(raw []byte, fn func(key string, val []byte) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("not a JSON object")
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errors.New("unterminated JSON object")
	}
	rest := raw[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return errors.New("bytes after the JSON object")
	}
	return nil
}

// jsonString decodes a JSON string literal (and nothing else: not null, not a number).
func jsonString(v []byte) (string, error) {
	var s string
	if len(v) == 0 || v[0] != '"' {
		return "", errors.New("not a string")
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", err
	}
	return s, nil
}

// uintArray decodes a JSON array of non-negative integers that fit an int, written as plain digits.
func uintArray(v []byte) ([]int, error) {
	var raw []json.RawMessage
	if len(v) == 0 || v[0] != '[' {
		return nil, errors.New("not an array")
	}
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, err
	}
	out := make([]int, len(raw))
	for i, r := range raw {
		u, err := strconv.ParseUint(string(r), 10, 64)
		if err != nil || u > math.MaxInt {
			return nil, fmt.Errorf("%s is not a non-negative integer", r)
		}
		out[i] = int(u)
	}
	return out, nil
}
