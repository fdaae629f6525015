package train

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/internal/sharedtest"
	"github.com/dmmd/dmmd/model"
)

// TestTrainerWritesCriticDiagnostics: every checkpoint (5, 10 and the last, 12) appends one line to
// diagnostics.jsonl, the same numbers DiagnoseCritic gives for the checkpoint's EMA weights, and diagnostics.png
// is drawn; nothing is recorded in warnings.jsonl.
func TestTrainerWritesCriticDiagnostics(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	if _, err := Run(context.Background(), tinyConfig(t, 12), Options{Out: dir, Dataset: ds, Log: &log}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDiagnostics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Step != 5 || got[1].Step != 10 || got[2].Step != 12 {
		t.Fatalf("diagnostics.jsonl holds %d records: %+v", len(got), got)
	}
	for _, d := range got {
		if d.N != 20 || d.HeldOut || len(d.Levels) != len(DiagLevels()) { // 40 images: n = 20, not held out
			t.Errorf("record of step %d: n %d, held out %v, %d levels", d.Step, d.N, d.HeldOut, len(d.Levels))
		}
	}
	p, _, err := LoadEMA(latestFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	want, err := DiagnoseCritic(p, ds, tinyConfig(t, 1).Sched, DiagOptions{N: 20})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got[2].Levels {
		if l != want.Levels[i] {
			t.Errorf("step 12, t = %v: logged %+v\nDiagnoseCritic on the checkpoint: %+v", l.T, l, want.Levels[i])
		}
	}
	f, err := os.Open(filepath.Join(dir, DiagChartName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", DiagChartName, err)
	}
	if ws, _ := ReadWarnings(dir); len(ws) != 0 {
		t.Errorf("warnings: %+v", ws)
	}
	if !strings.Contains(log.String(), "not held out") || strings.Count(log.String(), "critic diagnostics (") != 3 {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestCriticDiagnosticsOnResume: diagnostics.jsonl of a run that was interrupted (Ctrl-C between checkpoints),
// crashed (no checkpoint on the way out) or resumed from an earlier checkpoint (-resume-from, which drops the
// later line) is byte for byte that of an uninterrupted run.
func TestCriticDiagnosticsOnResume(t *testing.T) {
	ds := synthetic(t, 40, 1)
	const k = 12
	full := filepath.Join(t.TempDir(), "full")
	if _, err := Run(context.Background(), tinyConfig(t, k), Options{Out: full, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(full, DiagnosticsName))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, dir string) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(dir, DiagnosticsName))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: diagnostics.jsonl differs from the uninterrupted run's (%v):\n%s\nwant\n%s", what, err, got, want)
		}
	}

	interrupted := filepath.Join(t.TempDir(), "interrupted")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, tinyConfig(t, k), Options{Out: interrupted, Dataset: ds, AfterStep: func(step int64, _ model.Stats) {
		if step == 7 {
			cancel()
		}
	}})
	if err != nil || !res.Interrupted {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	if _, err := Run(context.Background(), tinyConfig(t, k), Options{Out: interrupted, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	check("interrupted at step 7", interrupted)

	crashed := filepath.Join(t.TempDir(), "crashed")
	crashAt(t, tinyConfig(t, k), Options{Out: crashed, Dataset: ds}, 11)
	if _, err := Run(context.Background(), tinyConfig(t, k), Options{Out: crashed, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	check("crashed at step 11", crashed)

	again := filepath.Join(t.TempDir(), "again")
	if err := os.CopyFS(again, os.DirFS(full)); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), tinyConfig(t, k), Options{Out: again, Dataset: ds, ResumeFrom: 10}); err != nil {
		t.Fatal(err)
	}
	check("resumed from step 10 after the full run", again)
}

// TestCriticDiagnosticsSetting: -diag-n 0 turns the diagnostics off; -diag-n is recorded in config.json only when
// it is not the default, so configurations from before it existed read as the default; it may change on resume.
func TestCriticDiagnosticsSetting(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tinyConfig(t, 6)
	cfg.Run.DiagN = 0
	if _, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DiagnosticsName, DiagChartName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("-diag-n 0 wrote %s", name)
		}
	}
	if c := readRunConfig(t, dir); c.Run.DiagN != 0 {
		t.Errorf("config.json has diag_n %d, want 0", c.Run.DiagN)
	}
	cfg.Steps, cfg.Run.DiagN = 10, 6
	if _, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true,
		"diag-n": true}}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDiagnostics(dir)
	if err != nil || len(got) != 1 || got[0].Step != 10 || got[0].N != 6 {
		t.Errorf("after resuming with -diag-n 6: %+v, %v", got, err)
	}

	def, _ := DefaultConfig("mnist")
	b, _ := json.Marshal(def.Run)
	if strings.Contains(string(b), "diag_n") {
		t.Errorf("the default is written: %s", b)
	}
	var back RunSettings
	if err := json.Unmarshal(b, &back); err != nil || back != def.Run || back.DiagN != DefaultDiagN {
		t.Errorf("read back %+v (%v), want %+v", back, err, def.Run)
	}
	off := def.Run
	off.DiagN = 0
	b, _ = json.Marshal(off)
	if err := json.Unmarshal(b, &back); err != nil || back.DiagN != 0 || !strings.Contains(string(b), `"diag_n":0`) {
		t.Errorf("-diag-n 0: %s read back as %d (%v)", b, back.DiagN, err)
	}
	bad := def
	bad.Run.DiagN = 1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "-diag-n 1") {
		t.Errorf("-diag-n 1: %v", err)
	}
}

// TestCriticDiagnosticsNeverStopTraining: a diagnostics chart that cannot be written, or too few images for the
// diagnostics, is a warning; training goes on and writes its checkpoints.
func TestCriticDiagnosticsNeverStopTraining(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(filepath.Join(dir, DiagChartName), 0o755); err != nil { // a folder in the chart's way
		t.Fatal(err)
	}
	cfg := tinyConfig(t, 10)
	res, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: synthetic(t, 40, 1)})
	if err != nil || res.Step != 10 {
		t.Fatalf("%+v, %v", res, err)
	}
	ws, _ := ReadWarnings(dir)
	if d, _ := ReadDiagnostics(dir); len(ws) != 2 || ws[0].What != "diagnostics chart" || len(d) != 2 {
		t.Errorf("warnings %+v; %d diagnostics records", ws, len(d))
	}

	dir = filepath.Join(t.TempDir(), "few")
	cfg = tinyConfig(t, 10)
	cfg.Batch = 2
	res, err = Run(context.Background(), cfg, Options{Out: dir, Dataset: synthetic(t, 3, 1)})
	ws, _ = ReadWarnings(dir)
	if err != nil || res.Step != 10 || len(ws) != 1 || !strings.Contains(ws[0].Error, "need at least 4") {
		t.Errorf("3 images: %+v, %v; warnings %+v", res, err, ws)
	}
	if _, err := checkpoints.ReadFile(filepath.Join(dir, "ckpt-000000010.safetensors")); err != nil {
		t.Error(err)
	}
}

// TestOpenHeldOut: the MNIST test split with the run's preprocessing (read from ../shared/data, skipped when it
// is absent; nothing is written there), a shape that is not the model's, and a dataset without a test split.
func TestOpenHeldOut(t *testing.T) {
	if _, err := OpenHeldOut(&Config{Dataset: "folder", Data: t.TempDir()}); err == nil ||
		!strings.Contains(err.Error(), "no test split") {
		t.Errorf("folder: %v", err)
	}
	path := sharedtest.Path(t, "mnist")
	m, err := model.Preset("small", 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Dataset: "mnist", Data: path, Model: m}
	ds, err := OpenHeldOut(&c)
	if err != nil || ds.Len() != 10000 || ds.Shape().H != 28 {
		t.Fatalf("mnist test split: %v", err)
	}
	c.MNISTPad32 = true
	if _, err := OpenHeldOut(&c); err == nil || !strings.Contains(err.Error(), "takes 1x28x28") {
		t.Errorf("padded to 32 for a 28x28 model: %v", err)
	}
}
