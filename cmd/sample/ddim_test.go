package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/sample"
	"github.com/dmmd/dmmd/train"
)

// refRun trains the tiny preset on a gray folder for a few steps with -ref-ratio rho.
func refRun(t *testing.T, rho float64) string { return refRunPenalty(t, rho, "") }

// refRunPenalty is refRun with the gradient penalty's form (train's -penalty).
func refRunPenalty(t *testing.T, rho float64, penalty string) string {
	t.Helper()
	cfg, _ := train.DefaultConfig(datasets.Folder)
	cfg.Data, cfg.FolderSize, cfg.Preset, cfg.Batch, cfg.Steps = writePNGs(t, 24, 8, false), 8, "tiny", 8, 6
	cfg.RefRatio, cfg.Loss.Penalty = rho, penalty
	cfg.Run.CkptEvery, cfg.Sample.Every = 0, 0
	run := filepath.Join(t.TempDir(), "run")
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: run}); err != nil {
		t.Fatal(err)
	}
	return run
}

func storedEmbeddings(t *testing.T, run string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(run, "embeddings-*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDDIMOnRefRatioRun: -update ddim on a checkpoint trained with -ref-ratio 0.5 writes a grid and an export; the
// mean embeddings are taken at rho 0.5 and record the data's mean square; the Euler update reuses them; shards of
// a ddim export write what one machine would, and an Euler export into its folder is refused.
func TestDDIMOnRefRatioRun(t *testing.T) {
	run := refRun(t, 0.5)
	tmp := t.TempDir()
	common := []string{"-ckpt", run, "-embed-n", "16", "-levels", "4", "-particles", "4"}
	grid := filepath.Join(tmp, "g.png")
	code, log := runSample(t, append(common, "-update", "ddim", "-grid", grid, "-n", "9", "-score", "10")...)
	if code != 0 || !strings.Contains(log, "-ref-ratio 0.5") || !strings.Contains(log, "ddim update") ||
		!strings.Contains(log, "stored") || !strings.Contains(log, "pixel MMD^2") {
		t.Fatalf("ddim grid: exit %d\n%s", code, log)
	}
	if img := decodePNG(t, grid); img.Bounds().Dx() != 3*8+4*sample.GridBorder {
		t.Errorf("grid width %d", img.Bounds().Dx())
	}
	files := storedEmbeddings(t, run)
	if len(files) != 1 {
		t.Fatalf("stored embeddings %v", files)
	}
	e, _, err := sample.LoadEmbeddings(files[0])
	if err != nil || e.RefRatio != 0.5 || !(e.MeanSq > 0.05 && e.MeanSq <= 1) {
		t.Fatalf("stored embeddings: %+v, %v", e, err)
	}
	code, log = runSample(t, append(common, "-n", "9", "-grid", filepath.Join(tmp, "default.png"))...)
	if code != 0 || !strings.Contains(log, "ddim update") || !strings.Contains(log, "the default for a -ref-ratio critic") {
		t.Errorf("no -update on a -ref-ratio run: exit %d, want the ddim update and a note saying why\n%s", code, log)
	}
	if a, b := readDir(t, tmp)["g.png"], readDir(t, tmp)["default.png"]; len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the default update on a -ref-ratio run drew another grid than -update ddim")
	}
	code, log = runSample(t, append(common, "-update", "euler", "-grid", filepath.Join(tmp, "euler.png"))...)
	if code != 0 || !strings.Contains(log, "using stored embeddings") || !strings.Contains(log, "euler update") {
		t.Errorf("euler on the same run: exit %d\n%s", code, log)
	}
	// Exports: one machine, three shards with other chunk sizes.
	one, three := filepath.Join(tmp, "one"), filepath.Join(tmp, "three")
	if code, log := runSample(t, append(common, "-update", "ddim", "-n", "10", "-out", one)...); code != 0 {
		t.Fatalf("ddim export: %d\n%s", code, log)
	}
	for i, sh := range []string{"0/3", "1/3", "2/3"} {
		args := append(common, "-update", "ddim", "-n", "10", "-out", three, "-shard", sh, "-chunk", []string{"1", "3", "4"}[i])
		if code, log := runSample(t, args...); code != 0 {
			t.Fatalf("shard %s: %d\n%s", sh, code, log)
		}
	}
	sameFolders(t, "ddim shards vs one machine", readDir(t, one), readDir(t, three))
	before := readDir(t, one)
	code, log = runSample(t, append(common, "-update", "euler", "-n", "10", "-out", one)...)
	if code != 1 || !strings.Contains(log, "update: ddim there, (not set) now") {
		t.Errorf("euler export into a ddim folder: exit %d\n%s", code, log)
	}
	sameFolders(t, "after a refused export", before, readDir(t, one))
	code, log = runSample(t, append(common, "-update", "ddim", "-x0-clip=false", "-n", "10", "-out", one)...)
	if code != 1 || !strings.Contains(log, "x0_clip: true there, false now") {
		t.Errorf("ddim export without the x0 clip: exit %d\n%s", code, log)
	}
}

// TestDDIMOlderEmbeddings: rho = 0 embeddings stored by an older dmmd (no reference ratio, no mean square) are
// reused by -update euler as they are; -update ddim computes the data's mean square and adds it to the file, and
// gives the same images as with embeddings computed afresh. A run with another reference ratio never reuses them.
func TestDDIMOlderEmbeddings(t *testing.T) {
	run := refRun(t, 0)
	tmp := t.TempDir()
	common := []string{"-ckpt", run, "-embed-n", "16", "-levels", "4", "-particles", "4", "-n", "8"}
	if code, log := runSample(t, append(common, "-grid", filepath.Join(tmp, "e.png"))...); code != 0 ||
		!strings.Contains(log, "euler update") || strings.Contains(log, "-ref-ratio") {
		t.Fatalf("no -update on a rho = 0 run: exit %d, want the euler update and no note\n%s", code, log)
	}
	if code, log := runSample(t, append(common, "-x0-clip=false", "-grid", filepath.Join(tmp, "x.png"))...); code != 2 ||
		!strings.Contains(log, "-x0-clip applies to -update ddim only") {
		t.Errorf("-x0-clip on a rho = 0 run without -update: exit %d, want 2 (euler is its default)\n%s", code, log)
	}
	files := storedEmbeddings(t, run)
	if len(files) != 1 {
		t.Fatalf("stored %v", files)
	}
	e, src, err := sample.LoadEmbeddings(files[0])
	if err != nil {
		t.Fatal(err)
	}
	want := e.MeanSq
	e.MeanSq = 0 // as an older dmmd stored it
	if err := sample.SaveEmbeddings(files[0], e, src); err != nil {
		t.Fatal(err)
	}
	code, log := runSample(t, append(common, "-grid", filepath.Join(tmp, "e2.png"))...)
	if code != 0 || !strings.Contains(log, "using stored embeddings") || strings.Contains(log, "mean square") {
		t.Errorf("euler with an older file: exit %d\n%s", code, log)
	}
	upgraded := filepath.Join(tmp, "upgraded.png")
	code, log = runSample(t, append(common, "-update", "ddim", "-grid", upgraded)...)
	if code != 0 || !strings.Contains(log, "using stored embeddings") || !strings.Contains(log, "added the data's mean square") {
		t.Fatalf("ddim with an older file: exit %d\n%s", code, log)
	}
	if e, _, err := sample.LoadEmbeddings(files[0]); err != nil || e.MeanSq != want {
		t.Errorf("after the upgrade the file has MeanSq %v (%v), want %v", e.MeanSq, err, want)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(tmp, "fresh.png")
	code, log = runSample(t, append(common, "-update", "ddim", "-grid", fresh)...)
	if code != 0 || !strings.Contains(log, "computing mean embeddings") {
		t.Fatalf("ddim with fresh embeddings: exit %d\n%s", code, log)
	}
	a, _ := os.ReadFile(upgraded)
	b, _ := os.ReadFile(fresh)
	if !bytes.Equal(a, b) {
		t.Error("ddim with the upgraded older file and with fresh embeddings give different grids")
	}
	// The same data and checkpoint files under a run with -ref-ratio 0.8 would key another file: the names differ.
	levels := []float64{1, 0.5}
	if sample.EmbeddingsPath(run, levels, 16, 0, 0, src) == sample.EmbeddingsPath(run, levels, 16, 0, 0.8, src) {
		t.Error("rho 0 and 0.8 share an embeddings file name")
	}
}

func TestDDIMFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-update", "ode"}, "ode"},
		{[]string{"-update", "ddim", "-eta-norm=false"}, "do not apply to -update ddim"},
		{[]string{"-update", "ddim", "-eta-schedule", "beta-drop"}, "do not apply to -update ddim"},
		{[]string{"-update", "euler", "-x0-clip=false"}, "-x0-clip applies to -update ddim only"},
	} {
		code, log := runSample(t, append([]string{"-ckpt", "/nonexistent", "-grid", "g.png"}, tc.args...)...)
		if code != 2 || !strings.Contains(log, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, log)
		}
	}
}

// TestDDIMEtaByPenalty: without -eta, the ddim update takes eta 1 on a critic trained with -penalty zero (and says
// so) and 1.3 on a WGAN-GP critic: the default grid equals the one drawn with that -eta and differs from the other.
func TestDDIMEtaByPenalty(t *testing.T) {
	for _, tc := range []struct {
		penalty    string
		eta, other string
		note       bool
	}{{model.PenaltyZero, "1", "1.3", true}, {"", "1.3", "1", false}} {
		run := refRunPenalty(t, 0.5, tc.penalty)
		tmp := t.TempDir()
		common := []string{"-ckpt", run, "-embed-n", "16", "-levels", "4", "-particles", "4", "-n", "9"}
		code, log := runSample(t, append(common, "-grid", filepath.Join(tmp, "default.png"))...)
		if code != 0 || strings.Contains(log, "penalty zero") != tc.note {
			t.Fatalf("penalty %q: exit %d, note about -penalty zero %v\n%s", tc.penalty, code, !tc.note, log)
		}
		for _, eta := range []string{tc.eta, tc.other} {
			if code, log := runSample(t, append(common, "-eta", eta, "-grid", filepath.Join(tmp, eta+".png"))...); code != 0 {
				t.Fatalf("-eta %s: exit %d\n%s", eta, code, log)
			}
		}
		files := readDir(t, tmp)
		if !bytes.Equal(files["default.png"], files[tc.eta+".png"]) || bytes.Equal(files["default.png"], files[tc.other+".png"]) {
			t.Errorf("penalty %q: the default grid is not the one drawn with -eta %s alone", tc.penalty, tc.eta)
		}
	}
}
