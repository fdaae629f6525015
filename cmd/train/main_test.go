package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/train"
)

// TestMain lets the tests run the command in a subprocess: the test binary re-executes itself with
// DMMD_TRAIN_MAIN=1 and the command's arguments.
func TestMain(m *testing.M) {
	if os.Getenv("DMMD_TRAIN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "DMMD_TRAIN_MAIN=1")
	return cmd
}

// writeFolder writes n small grey PNG images of random squares.
func writeFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		x0, y0 := rng.IntN(5), rng.IntN(5)
		for y := y0; y < y0+3; y++ {
			for x := x0; x < x0+3; x++ {
				img.SetGray(x, y, color.Gray{Y: uint8(100 + rng.IntN(155))})
			}
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

func trainArgs(data, out string, steps int) []string {
	return []string{"-dataset", "folder", "-data", data, "-folder-size", "8", "-preset", "tiny", "-batch", "4",
		"-steps", strconv.Itoa(steps), "-ckpt-every", "1000", "-log-every", "1", "-progress", "lines", "-lr", "1e-3", "-out", out}
}

// TestSIGTERMAndResume interrupts a training process with SIGTERM, resumes it with just -out, and checks that
// the result is bit-identical to an uninterrupted run.
func TestSIGTERMAndResume(t *testing.T) {
	data := writeFolder(t, 40)
	const steps = 40
	full := filepath.Join(t.TempDir(), "full")
	if out, err := command(t, trainArgs(data, full, steps)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	split := filepath.Join(t.TempDir(), "split")
	var log bytes.Buffer
	cmd := command(t, trainArgs(data, split, steps)...)
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(split, train.MetricsName))
		if bytes.Count(b, []byte("\n")) >= 5 || strings.Contains(log.String(), "step 5/") {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress within 60 s:\n%s", log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interrupted run exited with %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "interrupted at step") || !strings.Contains(log.String(), "-out "+split) {
		t.Errorf("no resume instructions after SIGTERM:\n%s", log.String())
	}
	out, err := command(t, "-out", split, "-progress", "lines").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resuming "+split+" from step") {
		t.Errorf("resume did not say so:\n%s", out)
	}
	a, _ := train.ReadMetrics(full)
	b, _ := train.ReadMetrics(split)
	if len(a) != steps || len(b) != steps {
		t.Fatalf("metrics hold %d and %d steps", len(a), len(b))
	}
	for i := range a {
		if a[i].Loss != b[i].Loss || a[i].MMD2 != b[i].MMD2 || a[i].T != b[i].T || a[i].GradPenalty != b[i].GradPenalty {
			t.Fatalf("step %d differs: %+v vs %+v", i+1, a[i], b[i])
		}
	}
	fa, fb := latestTensors(t, full), latestTensors(t, split)
	for name, v := range fa {
		if !slices.Equal(v, fb[name]) {
			t.Errorf("%s differs after SIGTERM and resume", name)
		}
	}
}

func latestTensors(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	r, err := checkpoints.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := r.Latest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range ld.File.Names() {
		tn, _ := ld.File.Tensor(n)
		out[n] = slices.Clone(tn.Data)
	}
	return out
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Per-dataset defaults"},
		{[]string{"-dataset", "imagenet"}, 2, "unknown dataset"},
		{[]string{"-ckpt-every", "soon"}, 2, "neither a step count nor a duration"},
		{[]string{"-steps", "ten"}, 2, "invalid value"},
		{[]string{"-progress", "fancy"}, 2, "want auto, bar or lines"},
		{[]string{"stray"}, 2, "unexpected arguments"},
		{[]string{"-dataset", "mnist", "-data", "/nonexistent/mnist", "-out", "OUT"}, 1, "/nonexistent/mnist"},
		{[]string{"-batch", "1", "-out", "OUT"}, 1, "-batch 1"},
	} {
		var buf bytes.Buffer
		args := slices.Clone(tc.args)
		for i, a := range args {
			if a == "OUT" {
				args[i] = filepath.Join(t.TempDir(), "run")
			}
		}
		if code := run(args, &buf); code != tc.code || !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), output:\n%s", tc.args, code, tc.code, buf.String())
		}
	}
}

// TestKilledBeforeFirstCheckpoint is the example: a run killed (SIGKILL) before its first checkpoint, then
// `train -out DIR -steps 5`. The bare -out must restart that same run from step 0 with its recorded settings (it used
// to fall back to the defaults: -dataset cifar10, whose data was missing or, worse, present), and give exactly what a
// fresh 5-step run with those settings gives.
func TestKilledBeforeFirstCheckpoint(t *testing.T) {
	data := writeFolder(t, 40)
	dir := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cmd := command(t, trainArgs(data, dir, 1000)...)
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(log.String(), "step 3/") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress within 60 s:\n%s", log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if r, _ := checkpoints.OpenRun(dir); r != nil {
		if cs, _ := r.Checkpoints(); len(cs) != 0 {
			t.Fatalf("the killed run wrote checkpoints %v", cs)
		}
	}

	var buf bytes.Buffer
	if code := run([]string{"-out", dir, "-steps", "5", "-progress", "lines"}, &buf); code != 0 {
		t.Fatalf("restart: exit %d\n%s", code, buf.String())
	}
	if !strings.Contains(buf.String(), "restarting "+dir+" from step 0 with its recorded settings") {
		t.Errorf("the restart did not say so:\n%s", buf.String())
	}
	r, _ := checkpoints.OpenRun(dir)
	var cfg train.Config
	if _, err := r.ReadConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Dataset != "folder" || cfg.Data != data || cfg.Steps != 5 || cfg.Preset != "tiny" {
		t.Errorf("config.json after the restart: dataset %q, data %q, steps %d, preset %q", cfg.Dataset, cfg.Data, cfg.Steps, cfg.Preset)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if code := run(trainArgs(data, fresh, 5), &bytes.Buffer{}); code != 0 {
		t.Fatal("fresh 5-step run failed")
	}
	fa, fb := latestTensors(t, fresh), latestTensors(t, dir)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%d and %d tensors", len(fa), len(fb))
	}
	for name, v := range fa {
		if !slices.Equal(v, fb[name]) {
			t.Errorf("%s differs between the restarted run and a fresh one", name)
		}
	}
}

// TestGroupsFlag: -groups reaches the trainer (every step records its groups' levels), and a resume may not change it.
func TestGroupsFlag(t *testing.T) {
	data := writeFolder(t, 40)
	dir := filepath.Join(t.TempDir(), "run")
	var buf bytes.Buffer
	if code := run(append(trainArgs(data, dir, 3), "-groups", "2"), &buf); code != 0 {
		t.Fatalf("exit %d\n%s", code, buf.String())
	}
	rs, err := train.ReadMetrics(dir)
	if err != nil || len(rs) != 3 {
		t.Fatalf("%d records, %v", len(rs), err)
	}
	for _, r := range rs {
		if len(r.Levels) != 2 || r.T != r.Levels[0] {
			t.Errorf("step %d: t %v, levels %v", r.Step, r.T, r.Levels)
		}
	}
	buf.Reset()
	if code := run([]string{"-out", dir, "-steps", "4", "-groups", "1", "-progress", "lines"}, &buf); code != 1 ||
		!strings.Contains(buf.String(), "-groups (run has 2, asked for 1)") {
		t.Errorf("-groups changed on resume: exit %d\n%s", code, buf.String())
	}
}
