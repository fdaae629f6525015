package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"math/rand/v2"
)

// Sampler draws the examples of a dataset of n images in epochs: each epoch
// visits every index once, in an order shuffled from (seed, epoch), and, when
// flipping is on, decides for each draw whether to mirror the image.
//
// The order of epoch e is a pure function of (seed, e): it is generated with
// the PCG generator of math/rand/v2 seeded with (seed, e) and a Fisher-Yates
// shuffle written here (so it does not depend on how math/rand/v2 maps random
// numbers to ranges). The complete state is therefore (n, seed, flip, epoch,
// position), which MarshalBinary saves and UnmarshalBinary restores exactly.
//
// A Sampler is not safe for concurrent use.
type Sampler struct {
	n     int
	seed  uint64
	flip  bool
	epoch int
	pos   int      // next position in perm
	perm  []int32  // order of the current epoch
	flips []uint64 // bit k set: flip the k-th draw of the current epoch
}

// NewSampler returns a sampler over n images at the start of epoch 0. It
// panics if n < 1 or n > math.MaxInt32.
func NewSampler(n int, seed uint64, flip bool) *Sampler {
	if n < 1 || n > math.MaxInt32 {
		panic(fmt.Sprintf("data: NewSampler: n = %d, want 1..%d", n, math.MaxInt32))
	}
	s := &Sampler{n: n, seed: seed, flip: flip, perm: make([]int32, n)}
	s.shuffle()
	return s
}

// Next returns the next example of the current epoch and whether to flip it.
// After the last example of an epoch the sampler moves to the next epoch and
// reshuffles.
func (s *Sampler) Next() (index int, flip bool) {
	index = int(s.perm[s.pos])
	flip = s.flip && s.flips[s.pos>>6]>>(s.pos&63)&1 == 1
	s.pos++
	if s.pos == s.n {
		s.epoch++
		s.pos = 0
		s.shuffle()
	}
	return index, flip
}

// Epoch returns the number of completed epochs (the index of the current one).
func (s *Sampler) Epoch() int { return s.epoch }

// Pos returns how many examples of the current epoch have been drawn.
func (s *Sampler) Pos() int { return s.pos }

// N returns the number of images the sampler draws from.
func (s *Sampler) N() int { return s.n }

// shuffle sets perm and flips for the current epoch.
func (s *Sampler) shuffle() {
	src := rand.NewPCG(s.seed, uint64(s.epoch))
	for i := range s.perm {
		s.perm[i] = int32(i)
	}
	for i := s.n - 1; i > 0; i-- {
		j := uint64n(src, uint64(i+1))
		s.perm[i], s.perm[j] = s.perm[j], s.perm[i]
	}
	if !s.flip {
		s.flips = nil
		return
	}
	if len(s.flips) != (s.n+63)/64 {
		s.flips = make([]uint64, (s.n+63)/64)
	}
	for k := range s.flips {
		s.flips[k] = src.Uint64()
	}
}

// uint64n returns a uniform value in [0, n) (Lemire's multiply-and-reject).
func uint64n(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// Sampler state encoding: magic, n, seed, flip, epoch, pos, CRC-32 (IEEE) of
// everything before it; integers little-endian.
const (
	samplerMagic     = "DMMDSMP1"
	samplerStateSize = len(samplerMagic) + 8 + 8 + 1 + 8 + 8 + 4
)

// MarshalBinary returns the complete state of the sampler.
func (s *Sampler) MarshalBinary() ([]byte, error) {
	if s.n < 1 {
		return nil, errors.New("data: sampler: marshal of a Sampler not made by NewSampler")
	}
	b := make([]byte, 0, samplerStateSize)
	b = append(b, samplerMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.n))
	b = binary.LittleEndian.AppendUint64(b, s.seed)
	var f byte
	if s.flip {
		f = 1
	}
	b = append(b, f)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.epoch))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.pos))
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return b, nil
}

// UnmarshalBinary restores a state saved by MarshalBinary, seed and flip
// setting included, so that the sampler continues the identical sequence. The
// receiver must have been made by NewSampler for the same number of images; a
// state for another n, or bytes that are not a valid state, give an error and
// leave the sampler unchanged.
func (s *Sampler) UnmarshalBinary(b []byte) error {
	if len(b) != samplerStateSize {
		return fmt.Errorf("data: sampler state: %d bytes, want %d", len(b), samplerStateSize)
	}
	if string(b[:len(samplerMagic)]) != samplerMagic {
		return fmt.Errorf("data: sampler state: bad magic %q, want %q", b[:len(samplerMagic)], samplerMagic)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("data: sampler state: checksum mismatch (corrupt state)")
	}
	p := body[len(samplerMagic):]
	n := binary.LittleEndian.Uint64(p[0:])
	seed := binary.LittleEndian.Uint64(p[8:])
	f := p[16]
	epoch := binary.LittleEndian.Uint64(p[17:])
	pos := binary.LittleEndian.Uint64(p[25:])
	switch {
	case n != uint64(s.n):
		return fmt.Errorf("data: sampler state is for %d images, this sampler has %d", n, s.n)
	case f > 1:
		return fmt.Errorf("data: sampler state: bad flip flag %d", f)
	case epoch > math.MaxInt32:
		return fmt.Errorf("data: sampler state: epoch %d out of range", epoch)
	case pos >= n:
		return fmt.Errorf("data: sampler state: position %d not below n = %d", pos, n)
	}
	s.seed, s.flip, s.epoch, s.pos = seed, f == 1, int(epoch), int(pos)
	s.shuffle()
	return nil
}
