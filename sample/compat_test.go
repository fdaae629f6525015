package sample_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/sample"
)

func hashFloats64(rows ...[]float64) string {
	h := fnv.New64a()
	var b [8]byte
	for _, r := range rows {
		for _, v := range r {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func hashFloats32(x []float32) string {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// TestEulerUnchanged: the mean embeddings at rho = 0 and the Euler flow give, bit for bit, what they gave before
// the reference ratio and the DDIM update existed (hashes recorded with main at b0d05e9). The values are amd64's:
// other architectures may fuse multiply-adds and round differently.
func TestEulerUnchanged(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("golden values recorded on amd64")
	}
	const dim = 6
	c := newRFF(1, 2, 3, 32, 0.2, 1.5, 7)
	d := newCloud(40, dim, 5)
	for _, tc := range []struct {
		mode       sample.Mode
		noise      float64
		clip       sample.Clip
		mp, mn, xs string
	}{
		{sample.Exact, 0, sample.ClipEnd, "f941c80162be9601", "44033063236a4b22", "d63afb291a89448b"},
		{sample.Exact, 0, sample.ClipStep, "f941c80162be9601", "44033063236a4b22", "c2d1caa1466efc30"},
		{sample.Exact, 0.4, sample.ClipEnd, "f941c80162be9601", "44033063236a4b22", "ee1e8dbc7de4dddb"},
		{sample.Exact, 0.4, sample.ClipStep, "f941c80162be9601", "44033063236a4b22", "e083878664aecfd6"},
		{sample.Approx, 0, sample.ClipEnd, "f941c80162be9601", "44033063236a4b22", "4e0adef79f06cd4b"},
		{sample.Approx, 0, sample.ClipStep, "f941c80162be9601", "44033063236a4b22", "a783c8eaf28b3019"},
		{sample.Approx, 0.4, sample.ClipEnd, "f941c80162be9601", "44033063236a4b22", "e94d14010313e25c"},
		{sample.Approx, 0.4, sample.ClipStep, "f941c80162be9601", "44033063236a4b22", "e32039c348ec5528"},
	} {
		o := sample.DefaultOptions(tc.mode, dim)
		o.Levels, o.StepsPerLevel, o.Particles, o.Chunk, o.Noise, o.Clip, o.Seed = 7, 2, 6, 4, tc.noise, tc.clip, 3
		o.Spacing = diffusion.Quadratic
		lv, _ := o.LevelGrid()
		e, err := sample.ComputeEmbeddings(c, d, lv, sample.EmbedOptions{M: 33, Batch: 5, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		mp, mn := e.Flat()
		if got := hashFloats64(mp); got != tc.mp {
			t.Errorf("%v: m_P hash %s, want %s", tc.mode, got, tc.mp)
		}
		if got := hashFloats64(mn); got != tc.mn {
			t.Errorf("%v: m_N hash %s, want %s", tc.mode, got, tc.mn)
		}
		f, err := sample.NewFlow(c, e, o)
		if err != nil {
			t.Fatal(err)
		}
		z, err := f.Sample(15)
		if err != nil {
			t.Fatal(err)
		}
		if got := hashFloats32(z); got != tc.xs {
			t.Errorf("%v noise %v clip %v: particles hash %s, want %s", tc.mode, tc.noise, tc.clip, got, tc.xs)
		}
	}
}

// TestEulerManifestUnchanged: an Euler export at rho = 0 writes the manifest an older dmmd wrote (so a folder it
// began still takes more images), and stored rho = 0 embeddings keep their file name (so they are still found).
func TestEulerManifestUnchanged(t *testing.T) {
	dir := t.TempDir()
	if _, err := sample.Export(context.Background(), flowWith(t, nil), dir, sample.ExportOptions{N: 4,
		Source: map[string]string{"checkpoint": "x"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, sample.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m sample.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"checkpoint": "x", "clip": "end", "eta": "0.5", "eta_norm": "true",
		"eta_schedule": "constant", "flow": "exact", "levels": "3", "noise": "0", "particles": "4",
		"schedule": "beta_min=0.1 beta_max=20 tmin=0.001", "seed": "11", "shape": "3x4x5", "spacing": "uniform",
		"steps_per_level": "2", "tmax": "1", "tmin": "0.001"}
	if runtime.GOARCH == "amd64" {
		want["embeddings"] = "fnv64a 748111c0ad6c9d15"
	} else {
		want["embeddings"] = m.Settings["embeddings"]
	}
	if d := m.Diff(&sample.Manifest{Format: 1, Kind: "samples", Settings: want}); d != "" || m.Format != 1 {
		t.Errorf("manifest changed: %s", d)
	}
	src := sample.EmbeddingsSource{Step: 1500, Checkpoint: "sha256:aa", Data: "100 images 1x2x2 fnv64a 01"}
	got := sample.EmbeddingsPath("d", []float64{1, 0.5, 0.001}, 100, 7, 0, src)
	if got != filepath.Join("d", "embeddings-000001500-d2eb6823a89437f5.safetensors") {
		t.Errorf("rho = 0 embeddings file %s, want the name older versions used", got)
	}
}
