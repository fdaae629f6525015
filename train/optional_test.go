package train

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/model"
)

// images returns n 3x8x8 images; image i is a copy of image distinct[i] (so equal entries give identical images).
func images(t *testing.T, distinct []int) *data.U8 {
	t.Helper()
	const size = 3 * 8 * 8
	pix := make([]uint8, len(distinct)*size)
	for i, k := range distinct {
		for j := range size {
			pix[i*size+j] = uint8((k*37 + j*11 + (j/7)*k) % 256)
		}
	}
	ds, err := data.NewU8(data.Shape{C: 3, H: 8, W: 8}, pix, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDiagnosticsNeverStopTraining: a sample grid, a sample score or a loss chart that cannot be made is recorded in
// warnings.jsonl and printed once, and training goes on to its last step and writes its checkpoints. The first case
// is the example (11 images, 8 identical, -batch 4 -steps 4 -sample-every 2 -ckpt-every 2), which used to stop
// at step 2 with "the reference images are all identical (median distance 0)" and no checkpoint.
func TestDiagnosticsNeverStopTraining(t *testing.T) {
	mostlyDuplicates := images(t, []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3})
	for _, tc := range []struct {
		name     string
		ds       *data.U8
		prepare  func(dir string) // after the first step
		scores   int              // lines in samples/scores.jsonl
		grids    []int64          // grids written
		warnings []string         // what of each warnings.jsonl line, in order
		printed  string           // printed once
	}{
		{"mostly duplicate references: fallback width", mostlyDuplicates, nil, 2, []int64{2, 4}, nil,
			"mean of the non-zero distances"},
		{"identical references: score skipped", images(t, []int{5, 5, 5, 5, 5, 5, 5, 5}), nil, 0, []int64{2, 4},
			[]string{"sample score"}, "all identical"},
		{"grid cannot be written", mostlyDuplicates, func(dir string) {
			os.MkdirAll(gridPath(dir, 2), 0o755) // a folder where the step-2 grid goes
		}, 1, []int64{4}, []string{"sample grid"}, "warning: step 2: sample grid"},
		{"loss chart cannot be written", mostlyDuplicates, func(dir string) {
			os.MkdirAll(filepath.Join(dir, LossChartName), 0o755)
		}, 2, []int64{2, 4}, []string{"loss chart", "loss chart"}, "warning: step 2: loss chart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			after := func(step int64, _ model.Stats) {
				if step == 1 && tc.prepare != nil {
					tc.prepare(dir)
				}
			}
			cfg := tinyConfig(t, 4)
			cfg.Batch, cfg.FolderSize = 4, 8
			cfg.Run.CkptEvery, cfg.Run.Keep = 2, 5
			cfg.Sample.Every, cfg.Sample.Particles = 2, 4
			var log bytes.Buffer
			res, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: tc.ds, Log: &log, AfterStep: after})
			if err != nil || res.Step != 4 {
				t.Fatalf("run: step %d, %v\n%s", res.Step, err, log.String())
			}
			for _, step := range []int64{2, 4} {
				if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("ckpt-%09d.safetensors", step))); err != nil {
					t.Errorf("checkpoint of step %d: %v", step, err)
				}
			}
			for _, step := range tc.grids {
				if fi, err := os.Stat(gridPath(dir, step)); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("grid of step %d: %v", step, err)
				}
			}
			scores, err := ReadScores(dir)
			if err != nil || len(scores) != tc.scores {
				t.Errorf("%d score lines (%v), want %d", len(scores), err, tc.scores)
			}
			for _, s := range scores {
				if !(s.Sigma > 0) {
					t.Errorf("score with width %v: %+v", s.Sigma, s)
				}
			}
			warnings, err := ReadWarnings(dir)
			if err != nil {
				t.Fatal(err)
			}
			var what []string
			for _, w := range warnings {
				what = append(what, w.What)
				if w.Step < 2 || w.Error == "" {
					t.Errorf("warning %+v", w)
				}
			}
			if strings.Join(what, ",") != strings.Join(tc.warnings, ",") {
				t.Errorf("warnings.jsonl records %q, want %q", what, tc.warnings)
			}
			if n := strings.Count(log.String(), tc.printed); n != 1 {
				t.Errorf("%q printed %d times, want once:\n%s", tc.printed, n, log.String())
			}
		})
	}
}
