package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/model"
)

// crashAt runs cfg and stops the process's work abruptly after the given step (a panic out of Run, as close to a
// kill as a test gets in-process: no checkpoint is written on the way out).
func crashAt(t *testing.T, cfg Config, opt Options, step int64) {
	t.Helper()
	defer func() {
		if r := recover(); r != "crash" {
			t.Fatalf("run did not crash as planned: %v", r)
		}
	}()
	opt.AfterStep = func(s int64, _ model.Stats) {
		if s == step {
			panic("crash")
		}
	}
	Run(context.Background(), cfg, opt)
}

// snapshot returns the SHA-256 of every file under dir, by relative path.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readRunConfig(t *testing.T, dir string) Config {
	t.Helper()
	run, err := checkpoints.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if _, err := run.ReadConfig(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRestartBeforeFirstCheckpoint: a run that crashed before its first checkpoint restarts from step 0 with its
// recorded settings when given only -out (here with the defaults of another dataset as the flags' values, as
// cmd/train passes them), says so, and refuses a change of a fixed setting.
func TestRestartBeforeFirstCheckpoint(t *testing.T) {
	ds := synthetic(t, 40, 1)
	cfg := tinyConfig(t, 20)
	cfg.Run.CkptEvery = 100
	dir := filepath.Join(t.TempDir(), "run")
	crashAt(t, cfg, Options{Out: dir, Dataset: ds}, 3)

	other, _ := DefaultConfig("cifar10")
	other.Seed = 9
	_, err := Run(context.Background(), other, Options{Out: dir, Dataset: ds, Set: map[string]bool{"seed": true}})
	if err == nil || !strings.Contains(err.Error(), "-seed") || !strings.Contains(err.Error(), "no checkpoint yet") {
		t.Errorf("restart with another -seed: %v", err)
	}

	other.Steps = 6
	var log bytes.Buffer
	res, err := Run(context.Background(), other, Options{Out: dir, Dataset: ds, Log: &log, Set: map[string]bool{"steps": true}})
	if err != nil || !res.Restarted || res.Resumed || res.Step != 6 {
		t.Fatalf("restart: %+v, %v\n%s", res, err, log.String())
	}
	if !strings.Contains(log.String(), "restarting "+dir+" from step 0 with its recorded settings") {
		t.Errorf("the restart did not say so:\n%s", log.String())
	}
	got := readRunConfig(t, dir)
	if got.Dataset != cfg.Dataset || got.Preset != "tiny" || got.Batch != cfg.Batch || got.Seed != cfg.Seed || got.Steps != 6 {
		t.Errorf("config.json after the restart: %+v", got)
	}
	if rs := losses(t, dir); len(rs) != 6 {
		t.Errorf("metrics.jsonl holds %d steps after the restart, want 6 (the crashed run's dropped)", len(rs))
	}
	// Exactly the run a fresh start with the recorded settings gives.
	cfg.Steps = 6
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, err := Run(context.Background(), cfg, Options{Out: fresh, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	a, b := finalTensors(t, fresh), finalTensors(t, dir)
	for name, v := range a {
		if !bytes.Equal(v, b[name]) {
			t.Errorf("%s differs between the restarted run and a fresh one", name)
		}
	}
}

// TestConfigJSONIsTheRunsConfiguration: after a resume that changed settings crashed before its next checkpoint,
// a bare resume continues with config.json's settings and history (it used to take the older checkpoint's,
// silently undoing the change).
func TestConfigJSONIsTheRunsConfiguration(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), tinyConfig(t, 5), Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(t, 12)
	c.Adam.LR = 1e-4
	crashAt(t, c, Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true, "lr": true}}, 7)

	bare, _ := DefaultConfig("cifar10")
	res, err := Run(context.Background(), bare, Options{Out: dir, Dataset: ds})
	if err != nil || !res.Resumed || res.Step != 12 {
		t.Fatalf("bare resume: %+v, %v", res, err)
	}
	got := readRunConfig(t, dir)
	if got.Adam.LR != 1e-4 || got.Steps != 12 || len(got.History) != 2 {
		t.Errorf("config.json: lr %v, steps %d, history %+v", got.Adam.LR, got.Steps, got.History)
	}
	if rs, _ := ReadMetrics(dir); len(rs) != 12 || rs[11].LR != 1e-4 {
		t.Errorf("metrics: %d records, last %+v", len(rs), rs[len(rs)-1])
	}
}

// TestInconsistentRunDirIsRefused: a run directory whose files disagree with each other, or whose config.json
// cannot be read, is refused with an error naming the problem, and nothing in it changes.
func TestInconsistentRunDirIsRefused(t *testing.T) {
	ds := synthetic(t, 40, 1)
	src := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), tinyConfig(t, 5), Options{Out: src, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, dir string)
		want  []string
		isErr error
	}{
		{"config.json of another run", func(t *testing.T, dir string) {
			c := readRunConfig(t, dir)
			c.Seed, c.Batch = 9, 4
			run, _ := checkpoints.OpenRun(dir)
			if err := run.WriteConfig(&c); err != nil {
				t.Fatal(err)
			}
		}, []string{"config.json and ckpt-000000005.safetensors disagree", "-seed (9 in config.json, 3 in the checkpoint)",
			"-batch", "nothing was changed"}, nil},
		{"corrupt config.json", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, checkpoints.ConfigName), []byte(`{"format": 1, "config": {"dataset": `), 0o644)
		}, []string{"not a consistent run", "config.json", "nothing was changed"}, checkpoints.ErrCorrupt},
		{"config.json from a newer program", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, checkpoints.ConfigName), []byte(`{"format": 99, "config": {}}`), 0o644)
		}, []string{"format version 99"}, nil},
		{"run files without config.json or checkpoint", func(t *testing.T, dir string) {
			for _, e := range []string{checkpoints.ConfigName, checkpoints.LatestName, "ckpt-000000005.safetensors"} {
				os.Remove(filepath.Join(dir, e))
			}
		}, []string{"holds files of a run (metrics.jsonl", "but no config.json and no checkpoint"}, ErrNotRunDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			tc.edit(t, dir)
			before := snapshot(t, dir)
			_, err := Run(context.Background(), tinyConfig(t, 10), Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true}})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Errorf("error does not wrap %v: %v", tc.isErr, err)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("files before %d, after %d", len(before), len(after))
			}
			for name, h := range before {
				if after[name] != h {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
	// A run whose config.json was lost resumes from its checkpoint's record, says so, and writes config.json again.
	dir := filepath.Join(t.TempDir(), "noconfig")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, checkpoints.ConfigName))
	var log bytes.Buffer
	res, err := Run(context.Background(), tinyConfig(t, 10), Options{Out: dir, Dataset: ds, Log: &log, Set: map[string]bool{"steps": true}})
	if err != nil || res.Step != 10 || !strings.Contains(log.String(), "has no config.json") {
		t.Fatalf("no config.json: %+v, %v\n%s", res, err, log.String())
	}
	if c := readRunConfig(t, dir); c.Steps != 10 {
		t.Errorf("config.json rewritten with steps %d", c.Steps)
	}
}
