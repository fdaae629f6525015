package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/sample"
	"github.com/dmmd/dmmd/train"
)

// twoCheckpoints trains the tiny preset on a gray folder to step 10 and on to 20, keeping both checkpoints.
func twoCheckpoints(t *testing.T) (run, dataDir string) {
	t.Helper()
	dataDir = writePNGs(t, 24, 8, false)
	cfg, _ := train.DefaultConfig(datasets.Folder)
	cfg.Data, cfg.FolderSize, cfg.Preset, cfg.Batch, cfg.Steps = dataDir, 8, "tiny", 8, 20
	cfg.Run.CkptEvery, cfg.Run.Keep, cfg.Sample.Every = 10, 5, 0
	run = filepath.Join(t.TempDir(), "run")
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: run}); err != nil {
		t.Fatal(err)
	}
	return run, dataDir
}

// TestExportFolderKeepsOneSource is the example: checkpoint 10 exported with -n 4 -particles 4 -out D, then
// checkpoint 20, or other -levels or -seed, into the same D. It printed "0 written, 4 already there", exited 0, and
// D kept checkpoint 10's images; now it is refused with what differs, and D is untouched.
func TestExportFolderKeepsOneSource(t *testing.T) {
	run, _ := twoCheckpoints(t)
	ck := func(step string) string { return filepath.Join(run, "ckpt-0000000"+step+".safetensors") }
	D := filepath.Join(t.TempDir(), "D")
	common := []string{"-embed-n", "8", "-levels", "3", "-particles", "4", "-out", D}
	if code, log := runSample(t, append(common, "-ckpt", ck("10"), "-n", "4")...); code != 0 {
		t.Fatalf("export of checkpoint 10: %d\n%s", code, log)
	}
	before := readDir(t, D)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ckpt", ck("20"), "-n", "4"}, "checkpoint_step: 10 there, 20 now"},
		{[]string{"-ckpt", ck("10"), "-n", "4", "-levels", "4"}, "levels: 3 there, 4 now"},
		{[]string{"-ckpt", ck("10"), "-n", "4", "-seed", "3"}, "seed: 0 there, 3 now"},
	} {
		code, log := runSample(t, append(common, tc.args...)...)
		if code != 1 || !strings.Contains(log, tc.want) || !strings.Contains(log, "use a new or empty folder") {
			t.Errorf("%v: exit %d, want 1 and %q:\n%s", tc.args, code, tc.want, log)
		}
		sameFolders(t, "after a refused export", before, readDir(t, D))
	}
	// The same checkpoint and settings resume it, also to a larger -n.
	code, log := runSample(t, append(common, "-ckpt", ck("10"), "-n", "6")...)
	if code != 0 || !strings.Contains(log, "2 written, 4 already there") {
		t.Errorf("extending the export: exit %d:\n%s", code, log)
	}
}

// TestStoredEmbeddingsFollowTheirSource: stored mean embeddings are reused only for the checkpoint and the data
// they were computed from. A checkpoint replaced at the same step (a resume from an earlier one) or other data get
// new ones, and the stored file is kept; a moved copy of the same data reuses them.
func TestStoredEmbeddingsFollowTheirSource(t *testing.T) {
	run, dataDir := twoCheckpoints(t)
	grid := func() string { return filepath.Join(t.TempDir(), "g.png") }
	common := []string{"-ckpt", run, "-embed-n", "8", "-levels", "3", "-particles", "4", "-n", "4"}
	stored := func() []string {
		m, _ := filepath.Glob(filepath.Join(run, "embeddings-*.safetensors"))
		return m
	}
	if code, log := runSample(t, append(common, "-grid", grid())...); code != 0 || !strings.Contains(log, "stored") {
		t.Fatalf("first: %d\n%s", code, log)
	}
	if code, log := runSample(t, append(common, "-grid", grid())...); code != 0 || !strings.Contains(log, "using stored embeddings") {
		t.Fatalf("second: %d\n%s", code, log)
	}
	// A moved copy of the same data: same content, reused.
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.CopyFS(moved, os.DirFS(dataDir)); err != nil {
		t.Fatal(err)
	}
	if code, log := runSample(t, append(common, "-grid", grid(), "-data", moved)...); code != 0 || !strings.Contains(log, "using stored embeddings") {
		t.Errorf("moved data: %d\n%s", code, log)
	}
	// Other data: computed anew.
	other := writePNGs(t, 20, 8, false)
	if code, log := runSample(t, append(common, "-grid", grid(), "-data", other)...); code != 0 || strings.Contains(log, "using stored") {
		t.Errorf("other data: %d\n%s", code, log)
	}
	// Checkpoint 20 replaced: resume from 10 with another learning rate and save step 20 again.
	cfg, _ := train.DefaultConfig(datasets.Folder)
	cfg.Adam.LR = 1e-3
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: run, ResumeFrom: 10, Set: map[string]bool{"lr": true}}); err != nil {
		t.Fatal(err)
	}
	n := len(stored())
	code, log := runSample(t, append(common, "-grid", grid())...)
	if code != 0 || strings.Contains(log, "using stored") || !strings.Contains(log, "computing mean embeddings") {
		t.Errorf("replaced checkpoint: %d\n%s", code, log)
	}
	if len(stored()) != n+1 {
		t.Errorf("%d stored embeddings after the replaced checkpoint, want %d (the old set kept, a new one)", len(stored()), n+1)
	}
	for _, p := range stored() {
		if _, src, err := sample.LoadEmbeddings(p); err != nil || src.Checkpoint == "" || src.Data == "" {
			t.Errorf("%s: source %+v, %v", p, src, err)
		}
	}
}
