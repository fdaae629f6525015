package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/train"
)

func runDiagnose(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(args, &out, &errs)
	return code, out.String(), errs.String()
}

// writeIDX writes n 28x28 digit-like blobs as an MNIST idx images file.
func writeIDX(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	b := []byte{0, 0, 8, 3}
	for _, d := range []uint32{uint32(n), 28, 28} {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	for range n {
		cx, cy, r := 8+12*rng.Float64(), 8+12*rng.Float64(), 2+4*rng.Float64()
		for y := range 28 {
			for x := range 28 {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				b = append(b, uint8(255*math.Exp(-d*d/(2*r*r))))
			}
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// trainedRun trains the tiny preset for 4 steps on an MNIST-format folder with a training and a test split.
func trainedRun(t *testing.T) (runDir, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	writeIDX(t, filepath.Join(dataDir, "train-images-idx3-ubyte"), 40, 1)
	writeIDX(t, filepath.Join(dataDir, "t10k-images-idx3-ubyte"), 20, 2)
	cfg, _ := train.DefaultConfig(datasets.MNIST)
	cfg.Data, cfg.Preset, cfg.Batch, cfg.Steps, cfg.Sample.Every = dataDir, "tiny", 4, 4, 0
	cfg.Loss.Groups = 2 // MNIST's default 8 needs -batch 16 or more
	runDir = filepath.Join(t.TempDir(), "run")
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: runDir}); err != nil {
		t.Fatal(err)
	}
	return runDir, dataDir
}

func TestDiagnose(t *testing.T) {
	runDir, dataDir := trainedRun(t)
	logged, err := os.ReadFile(filepath.Join(runDir, train.DiagnosticsName))
	if err != nil {
		t.Fatal(err)
	}

	// A table: a title, a header and one row per level, on the 2 x 10 held-out images of the test split.
	code, out, errs := runDiagnose(t, "-ckpt", runDir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2+len(train.DiagLevels()) || !strings.Contains(lines[0], "step 4") ||
		!strings.Contains(lines[0], "n = 10 held-out images (the mnist test split)") ||
		!strings.Contains(lines[1], "PR clean") {
		t.Fatalf("exit %d\n%s\nstderr:\n%s", code, out, errs)
	}
	for i, level := range train.DiagLevels() {
		if f := strings.Fields(lines[2+i]); len(f) != 14 || f[0] != strings.TrimSpace((&levelList{level}).String()) {
			t.Errorf("row %d: %q", i, lines[2+i])
		}
	}

	// -json prints the line the trainer logged for this checkpoint, byte for byte.
	ckpt := filepath.Join(runDir, "ckpt-000000004.safetensors")
	code, out, errs = runDiagnose(t, "-ckpt", ckpt, "-json")
	if code != 0 || out != string(logged) {
		t.Errorf("-json: exit %d\n%s\nthe trainer logged\n%s\nstderr:\n%s", code, out, logged, errs)
	}

	// Other levels and n.
	code, out, _ = runDiagnose(t, "-ckpt", ckpt, "-levels", "0.1, 0.5", "-n", "4")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 4 ||
		!strings.Contains(lines[0], "n = 4") || !strings.HasPrefix(strings.TrimSpace(lines[3]), "0.5 ") {
		t.Errorf("-levels 0.1,0.5 -n 4: exit %d\n%s", code, out)
	}

	// Data without a test split: training images, said to be not held out.
	moved := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(dataDir, "train-images-idx3-ubyte"))
	os.WriteFile(filepath.Join(moved, "train-images-idx3-ubyte"), b, 0o644)
	code, out, errs = runDiagnose(t, "-ckpt", runDir, "-data", moved, "-json")
	var d train.CriticDiag
	if code != 0 || !strings.Contains(errs, "not held out") || json.Unmarshal([]byte(out), &d) != nil || d.HeldOut || d.N != 20 {
		t.Errorf("-data without a test split: exit %d, %+v\n%s\nstderr:\n%s", code, d, out, errs)
	}
}

func TestDiagnoseErrors(t *testing.T) {
	runDir, _ := trainedRun(t)
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-ckpt is required"},
		{[]string{"-ckpt", filepath.Join(empty, "nope.safetensors")}, 1, "nope.safetensors: no such file"},
		{[]string{"-ckpt", empty}, 1, "holds no checkpoint"},
		{[]string{"-ckpt", filepath.Join(runDir, "config.json")}, 1, "config.json"},
		{[]string{"-ckpt", runDir, "-n", "1"}, 2, "-n 1"},
		{[]string{"-ckpt", runDir, "-levels", "0.5,2"}, 2, `"2" is not a level`},
		{[]string{"-ckpt", runDir, "-data", filepath.Join(empty, "gone")}, 1, "cannot be opened"},
		{[]string{"-ckpt", runDir, "extra"}, 2, "unexpected arguments"},
	} {
		code, _, errs := runDiagnose(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
