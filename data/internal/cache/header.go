// Package cache reads and writes preprocessing cache files (*.dmmdcache): the
// decoded, cropped and resized uint8 images of a source folder or archive, so
// that a dataset is decoded once rather than at every run.
//
// File layout (integers little-endian):
//
//	"DMMDCACH" | version u32 | body length u32 | body | CRC-32C of all before it (u32)
//	payload: Count*C*H*W bytes, images one after another in CHW layout
//	CRC-32C of the payload (u32)
//
// The body holds Kind, Source and Params (each a u16 length and the bytes), the
// 32-byte source Fingerprint, Count (u64) and C, H, W (u32 each). A reader
// checks the header's checksum, that the file has exactly the length the header
// implies (so a truncated file is detected before anything is read), and the
// payload checksum. Write goes through a temporary file, fsync and rename, so
// a file with the final name is always complete.
package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/dmmd/dmmd/data"
)

// Magic starts every cache file; Version is the layout version written.
const (
	Magic   = "DMMDCACH"
	Version = 1
)

// Limits on what a header may declare.
const (
	MaxString = 4096    // bytes in Kind, Source or Params
	MaxCount  = 1 << 31 // images
	MaxSide   = 1 << 14 // pixels in H or W
	MaxC      = 4       // channels
	maxBody   = 3*(2+MaxString) + 32 + 8 + 3*4
	fixedBody = 3*2 + 32 + 8 + 3*4
	prefixLen = len(Magic) + 4 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes a cache file: where its images came from and how they were
// made. A reader uses a cache only if every field matches what it would build.
type Header struct {
	Kind        string     // producing loader and its format version, e.g. "celeba/1"
	Source      string     // absolute path of the data folder or archive
	Params      string     // preprocessing parameters, e.g. "crop=140 size=64 filter=linear"
	Fingerprint [32]byte   // digest of the source's file names, sizes and modification times
	Count       int        // number of images
	Shape       data.Shape // shape of one image
}

// PayloadSize is the number of image bytes that follow the header.
func (h Header) PayloadSize() int64 { return int64(h.Count) * int64(h.Shape.Size()) }

// Encode returns the header bytes, checksum included.
func (h Header) Encode() []byte {
	b := make([]byte, 0, prefixLen+fixedBody+len(h.Kind)+len(h.Source)+len(h.Params)+4)
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = binary.LittleEndian.AppendUint32(b, uint32(fixedBody+len(h.Kind)+len(h.Source)+len(h.Params)))
	for _, s := range []string{h.Kind, h.Source, h.Params} {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = append(b, h.Fingerprint[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Count))
	for _, v := range []int{h.Shape.C, h.Shape.H, h.Shape.W} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// validate reports whether h can be encoded and describes a sane payload.
func (h Header) validate() error {
	for _, s := range []string{h.Kind, h.Source, h.Params} {
		if len(s) > MaxString {
			return fmt.Errorf("string of %d bytes exceeds %d", len(s), MaxString)
		}
	}
	switch {
	case h.Count < 1 || h.Count > MaxCount:
		return fmt.Errorf("image count %d not in 1..%d", h.Count, MaxCount)
	case h.Shape.C < 1 || h.Shape.C > MaxC:
		return fmt.Errorf("channel count %d not in 1..%d", h.Shape.C, MaxC)
	case h.Shape.H < 1 || h.Shape.H > MaxSide || h.Shape.W < 1 || h.Shape.W > MaxSide:
		return fmt.Errorf("image size %dx%d not within 1..%d", h.Shape.H, h.Shape.W, MaxSide)
	}
	return nil
}

// DecodeHeader reads and checks a header from r. It returns the header and
// the number of bytes it occupied. It reads nothing beyond the header.
func DecodeHeader(r io.Reader) (Header, int, error) {
	var h Header
	prefix := make([]byte, prefixLen)
	if _, err := io.ReadFull(r, prefix); err != nil {
		return h, 0, fmt.Errorf("reading header: %w", noEOF(err))
	}
	if string(prefix[:len(Magic)]) != Magic {
		return h, 0, fmt.Errorf("not a cache file (magic %q, want %q)", prefix[:len(Magic)], Magic)
	}
	if v := binary.LittleEndian.Uint32(prefix[8:]); v != Version {
		return h, 0, fmt.Errorf("cache format version %d, this program reads %d", v, Version)
	}
	n := binary.LittleEndian.Uint32(prefix[12:])
	if n < fixedBody || n > maxBody {
		return h, 0, fmt.Errorf("header body length %d not in %d..%d", n, fixedBody, maxBody)
	}
	rest := make([]byte, n+4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return h, 0, fmt.Errorf("reading header: %w", noEOF(err))
	}
	body, sum := rest[:n], binary.LittleEndian.Uint32(rest[n:])
	crc := crc32.Update(crc32.Checksum(prefix, castagnoli), castagnoli, body)
	if crc != sum {
		return h, 0, errors.New("header checksum mismatch (corrupt header)")
	}
	var strs [3]string
	for i := range strs {
		if len(body) < 2 {
			return h, 0, errors.New("header body too short")
		}
		l := int(binary.LittleEndian.Uint16(body))
		body = body[2:]
		if l > MaxString || l > len(body) {
			return h, 0, fmt.Errorf("header string of %d bytes does not fit", l)
		}
		strs[i], body = string(body[:l]), body[l:]
	}
	if len(body) != 32+8+3*4 {
		return h, 0, fmt.Errorf("header body has %d bytes after the strings, want %d", len(body), 32+8+3*4)
	}
	h.Kind, h.Source, h.Params = strs[0], strs[1], strs[2]
	copy(h.Fingerprint[:], body)
	count := binary.LittleEndian.Uint64(body[32:])
	c := binary.LittleEndian.Uint32(body[40:])
	hh := binary.LittleEndian.Uint32(body[44:])
	w := binary.LittleEndian.Uint32(body[48:])
	if count > MaxCount || c > MaxC || hh > MaxSide || w > MaxSide {
		return h, 0, fmt.Errorf("header declares %d images of %dx%dx%d, beyond the limits", count, c, hh, w)
	}
	h.Count, h.Shape = int(count), data.Shape{C: int(c), H: int(hh), W: int(w)}
	if err := h.validate(); err != nil {
		return h, 0, fmt.Errorf("header: %w", err)
	}
	return h, prefixLen + int(n) + 4, nil
}

// Diff describes the first field in which h differs from want, or returns ""
// when they agree. A zero want.Shape.C matches any channel count.
func (h Header) Diff(want Header) string {
	switch {
	case h.Kind != want.Kind:
		return fmt.Sprintf("made by %q, want %q", h.Kind, want.Kind)
	case h.Source != want.Source:
		return fmt.Sprintf("made from %s, want %s", h.Source, want.Source)
	case h.Params != want.Params:
		return fmt.Sprintf("made with %q, want %q", h.Params, want.Params)
	case h.Fingerprint != want.Fingerprint:
		return "source files changed since the cache was made (fingerprint differs)"
	case h.Count != want.Count:
		return fmt.Sprintf("holds %d images, the source has %d", h.Count, want.Count)
	case h.Shape.H != want.Shape.H || h.Shape.W != want.Shape.W || (want.Shape.C != 0 && h.Shape.C != want.Shape.C):
		return fmt.Sprintf("image shape %v, want %v", h.Shape, want.Shape)
	}
	return ""
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
