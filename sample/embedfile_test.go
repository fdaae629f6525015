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
		path := EmbeddingsPath(dir, 1500, levels, 100, 7)
		if !strings.Contains(filepath.Base(path), "embeddings-000001500-") {
			t.Errorf("path %s", path)
		}
		if other := EmbeddingsPath(dir, 1500, levels[:2], 100, 7); other == path {
			t.Error("different grids share a file name")
		}
		if err := SaveEmbeddings(path, e, 1500); err != nil {
			t.Fatal(err)
		}
		got, step, err := LoadEmbeddings(path)
		if err != nil {
			t.Fatal(err)
		}
		if step != 1500 || !got.Matches(levels, 100, 7) || got.HasNoised() != withMN {
			t.Errorf("round trip: step %d, %+v", step, got)
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
