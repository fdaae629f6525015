package sample

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmbeddingsFileRoundTrip(t *testing.T) {
	levels := []float64{1, 0.5, 0.001}
	mp := []float64{1, 2, 3, 4, 5, 6}
	mn := []float64{-1, -2, -3, -4, -5, -6}
	for _, withMN := range []bool{true, false} {
		var n []float64
		if withMN {
			n = mn
		}
		e, err := NewEmbeddings(levels, 100, 7, 2, mp, n)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		src := EmbeddingsSource{Step: 1500, Checkpoint: "sha256:aa", Data: "100 images 1x2x2 fnv64a 01"}
		path := EmbeddingsPath(dir, levels, 100, 7, 0, src)
		if !strings.Contains(filepath.Base(path), "embeddings-000001500-") {
			t.Errorf("path %s", path)
		}
		other := src
		other.Data = "100 images 1x2x2 fnv64a 02"
		other2 := src
		other2.Checkpoint = "sha256:bb"
		for _, p := range []string{EmbeddingsPath(dir, levels[:2], 100, 7, 0, src), EmbeddingsPath(dir, levels, 99, 7, 0, src),
			EmbeddingsPath(dir, levels, 100, 8, 0, src), EmbeddingsPath(dir, levels, 100, 7, 0, other),
			EmbeddingsPath(dir, levels, 100, 7, 0, other2)} {
			if p == path {
				t.Error("different grids, counts, seeds, data or checkpoints share a file name")
			}
		}
		if err := SaveEmbeddings(path, e, src); err != nil {
			t.Fatal(err)
		}
		got, gotSrc, err := LoadEmbeddings(path)
		if err != nil {
			t.Fatal(err)
		}
		if gotSrc != src || !got.Matches(levels, 100, 7, 0) || got.HasNoised() != withMN {
			t.Errorf("round trip: source %+v, %+v", gotSrc, got)
		}
		if d := gotSrc.Diff(other); !strings.Contains(d, "data") || strings.Contains(d, "checkpoint") {
			t.Errorf("Diff: %q", d)
		}
		gp, gn := got.Flat()
		for i := range mp {
			if gp[i] != mp[i] || (withMN && gn[i] != mn[i]) {
				t.Fatalf("values differ at %d", i)
			}
		}
		// A damaged file is an error that names it.
		b, _ := os.ReadFile(path)
		b[len(b)-3] ^= 1
		os.WriteFile(path, b, 0o644)
		if _, _, err := LoadEmbeddings(path); err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("corrupt file: %v", err)
		}
	}
}
