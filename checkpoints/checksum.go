package checkpoints

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
)

// FormatVersion is the version of dmmd's safetensors conventions (the reserved metadata keys and the checksum),
// stored as the decimal string in the "dmmd.format" metadata entry. Readers accept versions up to this one.
const FormatVersion = 1

// Reserved metadata keys, written by the Writer; SetMeta refuses them.
const (
	// MetaFormat holds FormatVersion as a decimal string.
	MetaFormat = "dmmd.format"
	// MetaChecksum holds "sha256:" and the lowercase hex SHA-256 of the canonical description of the file
	// (see docs/checkpoints.md): the tensor index, every other metadata entry and the data buffer.
	MetaChecksum = "dmmd.checksum"
	// MetaStep holds the training step of a checkpoint written by [Run.Save], as a decimal string.
	MetaStep = "dmmd.step"
)

const checksumPrefix = "sha256:"

// indexEntry is one tensor's header entry: its place in the data buffer.
type indexEntry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int
}

// sortIndex puts entries in canonical order: by data offsets, then by name (only zero-size tensors can tie).
func sortIndex(idx []indexEntry) {
	slices.SortFunc(idx, func(a, b indexEntry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
}

// checksummer feeds the canonical description of a file to SHA-256. Every string is length-prefixed and every
// number is a little-endian uint64, so the encoding is unambiguous:
//
//	str("dmmd.checksum.v1")
//	u64(#tensors), then per tensor in canonical order: str(name) str(dtype) u64(rank) u64(dim)... u64(begin) u64(end)
//	u64(#metadata entries other than dmmd.checksum), then per entry sorted by key: str(key) str(value)
//	u64(len(data)) data
type checksummer struct {
	h   hash.Hash
	buf [8]byte
}

func (c *checksummer) u64(v uint64) {
	binary.LittleEndian.PutUint64(c.buf[:], v)
	c.h.Write(c.buf[:])
}

func (c *checksummer) str(s string) {
	c.u64(uint64(len(s)))
	c.h.Write([]byte(s))
}

// checksum returns "sha256:<hex>" for a file with the given index (in canonical order), metadata (its
// dmmd.checksum entry, if any, is skipped) and data, whose pieces are hashed in order and total dataLen bytes.
func checksum(idx []indexEntry, meta map[string]string, dataLen int, data ...[]byte) string {
	c := checksummer{h: sha256.New()}
	c.str("dmmd.checksum.v1")
	c.u64(uint64(len(idx)))
	for _, e := range idx {
		c.str(e.name)
		c.str(string(e.dtype))
		c.u64(uint64(len(e.shape)))
		for _, d := range e.shape {
			c.u64(uint64(d))
		}
		c.u64(uint64(e.begin))
		c.u64(uint64(e.end))
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != MetaChecksum {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	c.u64(uint64(len(keys)))
	for _, k := range keys {
		c.str(k)
		c.str(meta[k])
	}
	c.u64(uint64(dataLen))
	for _, d := range data {
		c.h.Write(d)
	}
	return checksumPrefix + hex.EncodeToString(c.h.Sum(nil))
}

// validChecksumSyntax reports whether s is "sha256:" followed by 64 lowercase hex digits.
func validChecksumSyntax(s string) bool {
	if len(s) != len(checksumPrefix)+2*sha256.Size || s[:len(checksumPrefix)] != checksumPrefix {
		return false
	}
	for _, r := range s[len(checksumPrefix):] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

var formatString = strconv.Itoa(FormatVersion)
