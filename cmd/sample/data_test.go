package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/internal/sharedtest"
	"github.com/dmmd/dmmd/train"
)

// writePNGs writes n w x w images into a new folder: gray or RGB, image i a different pattern.
func writePNGs(t *testing.T, n, w int, rgb bool) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		var img image.Image
		if rgb {
			m := image.NewRGBA(image.Rect(0, 0, w, w))
			for p := range w * w {
				m.Set(p%w, p/w, color.RGBA{uint8(40 * i), uint8(p * 7), uint8(255 - p), 255})
			}
			img = m
		} else {
			m := image.NewGray(image.Rect(0, 0, w, w))
			for p := range w * w {
				m.SetGray(p%w, p/w, color.Gray{Y: uint8((p*13 + i*29) % 256)})
			}
			img = m
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%03d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// TestMNISTCheckpointWithRGBFolder is the example: a checkpoint trained on MNIST (1x28x28), sampled with
// `-dataset folder -data <3 RGB PNGs> -grid g.png -embed-n 3`, panicked in the dataset ("dst has length 784, want
// 3072"). It must be an error naming both shapes.
func TestMNISTCheckpointWithRGBFolder(t *testing.T) {
	path := sharedtest.Path(t, "mnist")
	cfg, _ := train.DefaultConfig(datasets.MNIST)
	cfg.Data, cfg.DataLimit, cfg.Preset, cfg.Batch, cfg.Steps = path, 64, "tiny", 8, 10
	cfg.Loss.Groups = 4 // MNIST's default 8 needs -batch 16 or more
	cfg.Run.CkptEvery, cfg.Sample.Every = 0, 0
	run := filepath.Join(t.TempDir(), "m")
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: run}); err != nil {
		t.Fatal(err)
	}
	rgb := writePNGs(t, 3, 32, true)
	code, log := runSample(t, "-ckpt", run, "-dataset", "folder", "-data", rgb, "-grid",
		filepath.Join(t.TempDir(), "g.png"), "-embed-n", "3")
	if code != 1 || !strings.Contains(log, "are 3x32x32 images, the checkpoint's model takes 1x28x28") ||
		!strings.Contains(log, "-dataset folder overrides the run's mnist") {
		t.Errorf("exit %d:\n%s", code, log)
	}
}

// TestDataChecks: the data the sampler reads must fit the checkpoint and be the run's unless flags say otherwise,
// and every override is printed.
func TestDataChecks(t *testing.T) {
	gray := writePNGs(t, 24, 8, false)
	cfg, _ := train.DefaultConfig(datasets.Folder)
	cfg.Data, cfg.FolderSize, cfg.Preset, cfg.Batch, cfg.Steps = gray, 8, "tiny", 8, 4
	cfg.Run.CkptEvery, cfg.Sample.Every = 0, 0
	run := filepath.Join(t.TempDir(), "run")
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: run}); err != nil {
		t.Fatal(err)
	}
	common := []string{"-ckpt", run, "-embed-n", "8", "-levels", "3", "-particles", "4", "-n", "4"}
	grid := func() string { return filepath.Join(t.TempDir(), "g.png") }
	other := writePNGs(t, 24, 8, false)
	os.WriteFile(filepath.Join(other, "000.png"), mustPNG(t, 8), 0o644) // same shape, other content
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"RGB images for a gray model", []string{"-data", writePNGs(t, 4, 8, true), "-grid", grid()}, 1,
			[]string{"are 3x8x8 images, the checkpoint's model takes 1x8x8"}},
		{"another size", []string{"-folder-size", "16", "-grid", grid()}, 1,
			[]string{"-folder-size 16 overrides the run's 8", "are 1x16x16 images, the checkpoint's model takes 1x8x8"}},
		{"another dataset", []string{"-dataset", "mnist", "-data", t.TempDir(), "-grid", grid()}, 1,
			[]string{"-dataset mnist overrides the run's folder"}},
		{"other data, asked for", []string{"-data", other, "-grid", grid(), "-score", "8"}, 0,
			[]string{"are not the run's training data", "using them as asked", "pixel MMD^2 to 8 training images"}},
		{"the run's data, other limit", []string{"-data-limit", "16", "-export-real", "-out", filepath.Join(t.TempDir(), "real")}, 0,
			[]string{"-data-limit 16 overrides the run's 0", "the data (16 images 1x8x8", "4 real images written"}},
		{"export-real of other images", []string{"-export-real", "-data", writePNGs(t, 4, 8, true), "-out", filepath.Join(t.TempDir(), "r")}, 1,
			[]string{"checkpoint's model takes 1x8x8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, log := runSample(t, append(common, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, log)
			}
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("output lacks %q:\n%s", w, log)
				}
			}
		})
	}
	// The run's data changed under it (no data flag): refused rather than silently averaged.
	os.WriteFile(filepath.Join(gray, "003.png"), mustPNG(t, 8), 0o644)
	code, log := runSample(t, append(common, "-grid", grid())...)
	if code != 1 || !strings.Contains(log, "are not the run's training data") || !strings.Contains(log, "give -data") {
		t.Errorf("changed data: exit %d:\n%s", code, log)
	}
}

// mustPNG encodes a w x w gray image with a pattern no writePNGs image has.
func mustPNG(t *testing.T, w int) []byte {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, w))
	for p := range w * w {
		m.SetGray(p%w, p/w, color.Gray{Y: uint8(255 - p)})
	}
	var b strings.Builder
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

// TestOddFlagsNeverPanic runs the command with flag values at and beyond their limits: each gives an exit status
// and a message, never a panic (which would fail the test) or an attempt to allocate the impossible.
func TestOddFlagsNeverPanic(t *testing.T) {
	runDir, _ := trainedRun(t)
	grid := func() string { return filepath.Join(t.TempDir(), "g.png") }
	base := []string{"-ckpt", runDir, "-embed-n", "4", "-levels", "2", "-particles", "4"}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-grid", grid(), "-chunk", "1000000000"}, 0, "wrote"},
		{[]string{"-grid", grid(), "-particles", "1000000000"}, 2, "do not fit in memory"},
		{[]string{"-grid", grid(), "-levels", "1000000000"}, 2, "levels = 1000000000"},
		{[]string{"-grid", grid(), "-n", "100000000"}, 2, "too large"},
		{[]string{"-grid", grid(), "-scale", "1000"}, 2, "grid scale 1000"},
		{[]string{"-grid", grid(), "-tmax", "2"}, 2, "tMax 2"},
		{[]string{"-grid", grid(), "-tmin", "0"}, 2, "t_min"},
		{[]string{"-grid", grid(), "-eta", "-1"}, 2, "eta"},
		{[]string{"-grid", grid(), "-noise", "NaN"}, 2, "noise"},
		{[]string{"-grid", grid(), "-embed-n", "1"}, 2, "-embed-n"},
		{[]string{"-grid", grid(), "-data-limit", "-1"}, 1, "negative limit"},
		{[]string{"-grid", grid(), "-folder-size", "0"}, 1, "the checkpoint's model takes 3x8x8"},
		{[]string{"-grid", grid(), "-celeba-crop", "7", "-dataset", "celeba64"}, 1, "crop"},
		{[]string{"-grid", grid(), "-dataset", "imagenet"}, 1, "unknown dataset"},
		{[]string{"-grid", grid(), "-score", "1000000"}, 0, "pixel MMD^2 to 48 training images"},
		{[]string{"-out", filepath.Join(t.TempDir(), "o"), "-n", "3", "-shard", "1/2"}, 0, "0 written"},
		{[]string{"-export-real", "-out", filepath.Join(t.TempDir(), "r"), "-n", "-5"}, 1, "export of -5 images"},
	} {
		code, log := runSample(t, append(base, tc.args...)...)
		if code != tc.code || !strings.Contains(log, tc.want) || tc.want == "" {
			t.Errorf("%v: exit %d (want %d), want %q in:\n%s", tc.args, code, tc.code, tc.want, log)
		}
	}
}
