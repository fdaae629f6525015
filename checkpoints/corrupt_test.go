package checkpoints

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkRejected asserts that reading path fails with ErrCorrupt and an error that names the file.
func checkRejected(t *testing.T, path, what string) {
	t.Helper()
	_, err := ReadFile(path)
	if err == nil {
		t.Fatalf("%s: accepted", what)
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("%s: error %q does not wrap ErrCorrupt or name %s", what, err, path)
	}
}

// Every proper prefix of a file is rejected (never a panic), in memory and from disk.
func TestTruncatedAtEveryByte(t *testing.T) {
	b := encodeBytes(t, sampleWriter(t))
	path := filepath.Join(t.TempDir(), "ckpt-000000100.safetensors")
	for n := 0; n < len(b); n++ {
		if _, err := Parse(path, b[:n], ReadOptions{AllowNoChecksum: true}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: error %v", n, len(b), err)
		}
		if n%7 == 0 || n < 16 || n > len(b)-16 {
			if err := os.WriteFile(path, b[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			checkRejected(t, path, "truncated file")
		}
	}
}

// Flipping any single bit of a small file, header and data alike, is detected.
func TestBitFlipEveryBit(t *testing.T) {
	b := encodeBytes(t, sampleWriter(t))
	path := filepath.Join(t.TempDir(), "ckpt-000000100.safetensors")
	for i := range 8 * len(b) {
		c := append([]byte{}, b...)
		c[i/8] ^= 1 << (i % 8)
		// Lenient reading too: a flip must not turn our file into an acceptable unchecksummed one.
		for _, o := range []ReadOptions{{}, {AllowNoChecksum: true}} {
			if _, err := Parse(path, c, o); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("bit %d (byte %d of %d, %q) flipped, options %+v: error %v", i%8, i/8, len(b), b[i/8], o, err)
			}
		}
	}
}

// In a checkpoint-sized file, flips at many random positions (and the first and last bytes) are detected
// when read from disk.
func TestBitFlipLargeFile(t *testing.T) {
	w := NewWriter()
	p := make([]float32, 1<<16)
	for i := range p {
		p[i] = float32(i) * 0.001
	}
	w.AddF32("params", nil, p)
	w.AddF32("ema", []int{256, 256}, p)
	b := encodeBytes(t, w)
	path := filepath.Join(t.TempDir(), "ckpt-000000007.safetensors")
	rng := rand.New(rand.NewPCG(1, 2))
	positions := []int{0, 7, 8, len(b) - 1}
	for range 60 {
		positions = append(positions, rng.IntN(len(b)))
	}
	for _, pos := range positions {
		c := append([]byte{}, b...)
		c[pos] ^= 1 << rng.IntN(8)
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		checkRejected(t, path, "bit flip")
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("the unflipped file: %v", err)
	}
}

func TestReadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.safetensors")
	_, err := ReadFile(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "checkpoints: ") {
		t.Fatalf("error %v", err)
	}
}
