package sample_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/sample"
)

// flowWith is smallFlow's flow (RGB 4x5, groups of 4) with its options, critic seed and source changed by edit.
func flowWith(t *testing.T, edit func(o *sample.Options, criticSeed *uint64)) *sample.Flow {
	t.Helper()
	o := sample.DefaultOptions(sample.Exact, 60)
	o.Levels, o.Particles, o.Chunk, o.Seed, o.Eta = 3, 4, 4, 11, 0.5
	seed := uint64(3)
	if edit != nil {
		edit(&o, &seed)
	}
	critic := newRFF(3, 4, 5, 16, 0.5, 2, seed)
	lv, err := o.LevelGrid()
	if err != nil {
		t.Fatal(err)
	}
	e, err := sample.ComputeEmbeddings(critic, newCloud(12, 60, 5), lv, sample.EmbedOptions{Seed: 1, RefRatio: o.RefRatio})
	if err != nil {
		t.Fatal(err)
	}
	f, err := sample.NewFlow(critic, e, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExportManifest is the example and its kind: a folder exported with one checkpoint or one set of
// sampler settings is refused, unchanged, by an export with another (it used to print "0 written, 4 already there"
// and keep the old images), with an error naming what differs; settings that do not change any image (N, the chunk
// size, the shard layout) may differ.
func TestExportManifest(t *testing.T) {
	ctx := context.Background()
	ckpt10 := map[string]string{"checkpoint": "sha256:10", "checkpoint_step": "10"}
	base := t.TempDir()
	if _, err := sample.Export(ctx, flowWith(t, nil), base, sample.ExportOptions{N: 4, Source: ckpt10}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(o *sample.Options, criticSeed *uint64)
		source map[string]string
		want   string
	}{
		{"another checkpoint", nil, map[string]string{"checkpoint": "sha256:20", "checkpoint_step": "20"},
			"checkpoint: sha256:10 there, sha256:20 now; checkpoint_step: 10 there, 20 now"},
		{"other weights, same source", func(o *sample.Options, s *uint64) { *s = 4 }, ckpt10, "embeddings: fnv64a"},
		{"another seed", func(o *sample.Options, s *uint64) { o.Seed = 12 }, ckpt10, "seed: 11 there, 12 now"},
		{"other levels", func(o *sample.Options, s *uint64) { o.Levels = 4 }, ckpt10, "levels: 3 there, 4 now"},
		{"other steps", func(o *sample.Options, s *uint64) { o.StepsPerLevel = 3 }, ckpt10, "steps_per_level: 2 there, 3 now"},
		{"other eta", func(o *sample.Options, s *uint64) { o.Eta = 0.25 }, ckpt10, "eta: 0.5 there, 0.25 now"},
		{"other clip", func(o *sample.Options, s *uint64) { o.Clip = sample.ClipStep }, ckpt10, "clip: end there, step now"},
		{"other noise", func(o *sample.Options, s *uint64) { o.Noise = 0.1 }, ckpt10, "noise: 0 there, 0.1 now"},
		{"other group size", func(o *sample.Options, s *uint64) { o.Particles = 2; o.Chunk = 2 }, ckpt10, "particles: 4 there, 2 now"},
		{"approximate flow", func(o *sample.Options, s *uint64) { o.Mode = sample.Approx }, ckpt10, "flow: exact there, approx now"},
		{"ddim update", func(o *sample.Options, s *uint64) { o.Update = sample.DDIM }, ckpt10, "update: (not recorded) there, ddim now"},
		{"reference ratio", func(o *sample.Options, s *uint64) { o.RefRatio = 0.5 }, ckpt10, "ref_ratio: (not recorded) there, 0.5 now"},
		{"no source", nil, nil, "checkpoint: sha256:10 there, (not set) now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			before := readAll(t, dir)
			_, err := sample.Export(ctx, flowWith(t, tc.edit), dir, sample.ExportOptions{N: 8, Source: tc.source})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "use a new or empty folder") {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			after := readAll(t, dir)
			if len(after) != len(before) {
				t.Fatalf("files %v after the refusal", listDir(t, dir))
			}
			for name, b := range before {
				if string(after[name]) != string(b) {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
	// Allowed: a larger N, another chunk size, shards; the result is what one export of all gives.
	grown := t.TempDir()
	if err := os.CopyFS(grown, os.DirFS(base)); err != nil {
		t.Fatal(err)
	}
	for i, sh := range []sample.Shard{{Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		f := flowWith(t, func(o *sample.Options, _ *uint64) { o.Chunk = 1 + i })
		if _, err := sample.Export(ctx, f, grown, sample.ExportOptions{N: 10, Shard: sh, Source: ckpt10}); err != nil {
			t.Fatalf("shard %v: %v", sh, err)
		}
	}
	whole := t.TempDir()
	if _, err := sample.Export(ctx, flowWith(t, nil), whole, sample.ExportOptions{N: 10, Source: ckpt10}); err != nil {
		t.Fatal(err)
	}
	sameDirs(t, whole, grown)
}

// TestExportWithoutManifestRefused: a folder holding exported images but no manifest (an older dmmd, or a manifest
// deleted by hand) cannot be told apart from another export's, so it is refused unchanged.
func TestExportWithoutManifestRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sample.Export(ctx, flowWith(t, nil), dir, sample.ExportOptions{N: 4}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, sample.ManifestName)); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	_, err := sample.Export(ctx, flowWith(t, nil), dir, sample.ExportOptions{N: 8})
	if err == nil || !strings.Contains(err.Error(), "holds 4 exported images but no "+sample.ManifestName) {
		t.Errorf("error %v", err)
	}
	if after := listDir(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("folder changed from %v to %v", before, after)
	}
	// A corrupt manifest is an error too.
	os.WriteFile(filepath.Join(dir, sample.ManifestName), []byte("{"), 0o644)
	if _, err := sample.Export(ctx, flowWith(t, nil), dir, sample.ExportOptions{N: 8}); err == nil ||
		!strings.Contains(err.Error(), "not a readable manifest") {
		t.Errorf("corrupt manifest: %v", err)
	}
}

// TestExportRealManifest: real images of another dataset are refused in a folder of real images, and sample
// exports in it too.
func TestExportRealManifest(t *testing.T) {
	ctx := context.Background()
	shape := data.Shape{C: 3, H: 4, W: 5}
	mk := func(v uint8) *data.U8 {
		pix := make([]uint8, 6*shape.Size())
		for i := range pix {
			pix[i] = v + uint8(i%7)
		}
		ds, err := data.NewU8(shape, pix, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	dir := t.TempDir()
	if _, err := sample.ExportReal(ctx, mk(1), dir, sample.ExportOptions{N: 3}); err != nil {
		t.Fatal(err)
	}
	if st, err := sample.ExportReal(ctx, mk(1), dir, sample.ExportOptions{}); err != nil || st.Written != 3 {
		t.Errorf("resume with the same data: %+v, %v", st, err)
	}
	if _, err := sample.ExportReal(ctx, mk(2), dir, sample.ExportOptions{}); err == nil ||
		!strings.Contains(err.Error(), "data: 6 images 3x4x5 fnv64a") {
		t.Errorf("other data: %v", err)
	}
	if _, err := sample.Export(ctx, flowWith(t, nil), dir, sample.ExportOptions{N: 4}); err == nil ||
		!strings.Contains(err.Error(), "it holds real images, this export writes samples images") {
		t.Errorf("samples into a folder of real images: %v", err)
	}
	if got, want := sample.DataHash(mk(1)), sample.DataHash(mk(1)); got != want || got == sample.DataHash(mk(2)) {
		t.Errorf("DataHash: %q, %q", got, want)
	}
}

// TestExportManifestDDIM: a DDIM export records the update, its x0 clip and the reference ratio (and not the Euler
// step settings it ignores); another update, clip or ratio is refused; shards of a DDIM export write what one
// machine would.
func TestExportManifestDDIM(t *testing.T) {
	ctx := context.Background()
	ddim := func(rho float64, edit func(o *sample.Options)) func(o *sample.Options, _ *uint64) {
		return func(o *sample.Options, _ *uint64) {
			o.Update, o.Eta, o.RefRatio = sample.DDIM, 1, rho
			if edit != nil {
				edit(o)
			}
		}
	}
	base := t.TempDir()
	if _, err := sample.Export(ctx, flowWith(t, ddim(0.5, nil)), base, sample.ExportOptions{N: 4}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(o *sample.Options, _ *uint64)
		want string
	}{
		{"euler", func(o *sample.Options, _ *uint64) { o.RefRatio = 0.5 }, "update: ddim there, (not set) now"},
		{"other ratio", ddim(0.8, nil), "ref_ratio: 0.5 there, 0.8 now"},
		{"rho 0", ddim(0, nil), "ref_ratio: 0.5 there, (not set) now"},
		{"no x0 clip", ddim(0.5, func(o *sample.Options) { o.X0Clip = false }), "x0_clip: true there, false now"},
		{"other eta", ddim(0.5, func(o *sample.Options) { o.Eta = 1.5 }), "eta: 1 there, 1.5 now"},
	} {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
		if _, err := sample.Export(ctx, flowWith(t, tc.edit), dir, sample.ExportOptions{N: 4}); err == nil ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	// EtaNorm and EtaSchedule change no DDIM image: not recorded, so they may differ.
	same := t.TempDir()
	if err := os.CopyFS(same, os.DirFS(base)); err != nil {
		t.Fatal(err)
	}
	if _, err := sample.Export(ctx, flowWith(t, ddim(0.5, func(o *sample.Options) { o.EtaNorm, o.EtaSchedule = true, sample.EtaVariance })),
		same, sample.ExportOptions{N: 8}); err != nil {
		t.Errorf("DDIM with other Euler step settings: %v", err)
	}
	whole, sharded := t.TempDir(), t.TempDir()
	if _, err := sample.Export(ctx, flowWith(t, ddim(0.5, nil)), whole, sample.ExportOptions{N: 10}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		f := flowWith(t, ddim(0.5, func(o *sample.Options) { o.Chunk = 1 + i }))
		if _, err := sample.Export(ctx, f, sharded, sample.ExportOptions{N: 10, Shard: sample.Shard{Index: i, Count: 3}}); err != nil {
			t.Fatal(err)
		}
	}
	sameDirs(t, whole, sharded)
}
