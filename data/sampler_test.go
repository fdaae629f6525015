package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
)

type draw struct {
	i    int
	flip bool
}

func drawN(s *Sampler, k int) []draw {
	out := make([]draw, k)
	for j := range out {
		out[j].i, out[j].flip = s.Next()
	}
	return out
}

func TestSamplerEpochsArePermutations(t *testing.T) {
	const n = 97
	s := NewSampler(n, 7, true)
	var prev []int
	for e := 0; e < 4; e++ {
		if s.Epoch() != e || s.Pos() != 0 {
			t.Fatalf("at start of epoch %d: Epoch %d Pos %d", e, s.Epoch(), s.Pos())
		}
		order := make([]int, n)
		for j := range order {
			order[j], _ = s.Next()
		}
		sorted := slices.Clone(order)
		slices.Sort(sorted)
		for j, v := range sorted {
			if v != j {
				t.Fatalf("epoch %d is not a permutation of 0..%d: %v", e, n-1, order)
			}
		}
		if slices.Equal(order, prev) {
			t.Fatalf("epoch %d has the same order as the one before", e)
		}
		prev = order
	}
}

func TestSamplerDeterminism(t *testing.T) {
	a := drawN(NewSampler(50, 3, true), 170)
	b := drawN(NewSampler(50, 3, true), 170)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different sequences")
	}
	c := drawN(NewSampler(50, 4, true), 170)
	if slices.Equal(a, c) {
		t.Fatal("seeds 3 and 4 gave the same sequence")
	}
	// The order does not depend on whether flipping is on.
	d := drawN(NewSampler(50, 3, false), 170)
	for j := range a {
		if d[j].i != a[j].i || d[j].flip {
			t.Fatalf("draw %d: flip off gives %+v, flip on %+v", j, d[j], a[j])
		}
	}
}

// TestSamplerGolden pins the sequence for one seed: the order is part of the
// checkpoint format, and changing it would break resuming old runs.
func TestSamplerGolden(t *testing.T) {
	got := drawN(NewSampler(10, 1, true), 12)
	want := []draw{{7, false}, {6, false}, {1, true}, {3, true}, {2, true}, {4, false}, {8, false}, {9, true},
		{0, true}, {5, true}, {2, false}, {5, false}}
	if !slices.Equal(got, want) {
		t.Fatalf("seed 1, n 10:\n got %v\nwant %v", got, want)
	}
}

func TestSamplerFlipRate(t *testing.T) {
	const n = 20000
	s := NewSampler(n, 11, true)
	flips := 0
	for range n {
		if _, f := s.Next(); f {
			flips++
		}
	}
	// Binomial(20000, 0.5): sd 70.7; allow 5 sd.
	if flips < n/2-354 || flips > n/2+354 {
		t.Fatalf("%d of %d draws flipped", flips, n)
	}
}

// TestSamplerUniform checks that all 6 orders of 3 items are equally likely.
func TestSamplerUniform(t *testing.T) {
	const epochs = 60000
	s := NewSampler(3, 5, false)
	count := map[[3]int]int{}
	for range epochs {
		var o [3]int
		for j := range o {
			o[j], _ = s.Next()
		}
		count[o]++
	}
	if len(count) != 6 {
		t.Fatalf("saw %d distinct orders of 3, want 6: %v", len(count), count)
	}
	// Each count is Binomial(60000, 1/6): mean 10000, sd 91; allow 5 sd.
	for o, c := range count {
		if c < 10000-456 || c > 10000+456 {
			t.Errorf("order %v drawn %d times in %d epochs", o, c, epochs)
		}
	}
}

func TestSamplerResume(t *testing.T) {
	const n = 37
	for _, flip := range []bool{false, true} {
		for _, k := range []int{0, 1, 20, n - 1, n, n + 5, 3*n - 1} {
			s := NewSampler(n, 99, flip)
			drawN(s, k)
			state, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want := drawN(s, 2*n+3)

			// A sampler made with another seed and flip setting adopts the saved ones.
			r := NewSampler(n, 12345, !flip)
			drawN(r, 7)
			if err := r.UnmarshalBinary(state); err != nil {
				t.Fatalf("flip %v, k %d: %v", flip, k, err)
			}
			if r.Epoch() != k/n || r.Pos() != k%n {
				t.Fatalf("restored at epoch %d pos %d, want %d %d", r.Epoch(), r.Pos(), k/n, k%n)
			}
			if got := drawN(r, 2*n+3); !slices.Equal(got, want) {
				t.Fatalf("flip %v, resumed after %d draws:\n got %v\nwant %v", flip, k, got, want)
			}
		}
	}
}

// reseal recomputes the checksum of a state edited by a test.
func reseal(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestSamplerUnmarshalErrors(t *testing.T) {
	s := NewSampler(10, 1, true)
	drawN(s, 4)
	good, _ := s.MarshalBinary()
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// Offsets: magic 0-7, n 8-15, seed 16-23, flip 24, epoch 25-32, pos 33-40, crc 41-44.
	cases := []struct {
		name  string
		state []byte
		want  string
	}{
		{"empty", nil, "0 bytes"},
		{"truncated", good[:30], "30 bytes"},
		{"longer", append(bytes.Clone(good), 0), "46 bytes"},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return reseal(b) }), "bad magic"},
		{"bit flip", edit(func(b []byte) []byte { b[20] ^= 4; return b }), "checksum"},
		{"other n", NewSamplerState(t, 11), "for 11 images, this sampler has 10"},
		{"flip flag", edit(func(b []byte) []byte { b[24] = 2; return reseal(b) }), "flip flag"},
		{"pos = n", edit(func(b []byte) []byte { b[33] = 10; return reseal(b) }), "position 10"},
		{"huge epoch", edit(func(b []byte) []byte { b[32] = 0x80; return reseal(b) }), "epoch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewSampler(10, 1, true)
			drawN(r, 2)
			before, _ := r.MarshalBinary()
			err := r.UnmarshalBinary(c.state)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if after, _ := r.MarshalBinary(); !bytes.Equal(before, after) {
				t.Fatal("failed UnmarshalBinary changed the sampler")
			}
		})
	}
	if _, err := new(Sampler).MarshalBinary(); err == nil {
		t.Error("zero Sampler marshalled without error")
	}
	if err := new(Sampler).UnmarshalBinary(good); err == nil {
		t.Error("zero Sampler accepted a state for 10 images")
	}
}

func NewSamplerState(t *testing.T, n int) []byte {
	b, err := NewSampler(n, 1, true).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewSamplerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewSampler(0, ...) did not panic")
		}
	}()
	NewSampler(0, 1, false)
}

func FuzzSamplerUnmarshal(f *testing.F) {
	for _, k := range []int{0, 3, 9} {
		s := NewSampler(10, 1, k%2 == 1)
		drawN(s, k)
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte("DMMDSMP1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewSampler(10, 1, true)
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted state %x re-marshals as %x (%v)", b, again, err)
		}
		drawN(s, 25) // must not panic
	})
}
