package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

// TestSampleGridsAndScores: -sample-every writes a grid and a score line at its steps; a resumed run drops the
// score lines written after its checkpoint (as a crash would leave them) and goes on appending.
func TestSampleGridsAndScores(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tinyConfig(t, 10)
	cfg.Sample.Every, cfg.Sample.Particles, cfg.Sample.Refs = 5, 8, 30
	var log bytes.Buffer
	if _, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: ds, Log: &log}); err != nil {
		t.Fatal(err)
	}
	scores, err := ReadScores(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 2 {
		t.Fatalf("%d score lines, want 2: %+v", len(scores), scores)
	}
	for i, s := range scores {
		step := int64(5 * (i + 1))
		if s.Step != step || s.Samples != 8 || s.References != 30 || s.Grid != filepath.Base(gridPath(dir, step)) {
			t.Errorf("line %d: %+v", i, s)
		}
		if math.IsNaN(s.MMD2) || math.IsInf(s.MMD2, 0) || !(s.Noise > 0) || !(s.Sigma > 0) {
			t.Errorf("line %d: values %+v", i, s)
		}
		if _, err := os.Stat(gridPath(dir, step)); err != nil {
			t.Errorf("grid of step %d: %v", step, err)
		}
	}
	best := scores[0]
	if scores[1].MMD2 < best.MMD2 {
		best = scores[1]
	}
	if want := fmt.Sprintf("best sample score %.4g at step %d", best.MMD2, best.Step); !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	// A line from after the last checkpoint (step 10), then resume to 15.
	f, err := os.OpenFile(filepath.Join(dir, rundir.SamplesDir, ScoresName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":12,"mmd2":1}` + "\n")
	f.Close()
	cfg.Steps = 15
	res, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true}})
	if err != nil || !res.Resumed || res.Step != 15 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	scores, err = ReadScores(dir)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for _, s := range scores {
		steps = append(steps, s.Step)
	}
	if len(steps) != 3 || steps[0] != 5 || steps[1] != 10 || steps[2] != 15 {
		t.Fatalf("score steps after resume: %v, want [5 10 15]", steps)
	}
	// Reproducible: a fresh run with the same settings scores its grids the same, bit for bit.
	again := filepath.Join(t.TempDir(), "again")
	cfg.Steps = 10
	if _, err := Run(context.Background(), cfg, Options{Out: again, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	other, err := ReadScores(again)
	if err != nil || len(other) != 2 || other[0] != scores[0] || other[1] != scores[1] {
		t.Fatalf("a second run scored %+v (%v), the first %+v", other, err, scores[:2])
	}
}

func TestSampleScoreOff(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tinyConfig(t, 5)
	cfg.Sample.Every, cfg.Sample.Particles, cfg.Sample.Refs = 5, 4, 0
	if _, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: synthetic(t, 20, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(gridPath(dir, 5)); err != nil {
		t.Fatal(err)
	}
	if scores, err := ReadScores(dir); err != nil || len(scores) != 0 {
		t.Fatalf("scores with -sample-refs 0: %v, %v", scores, err)
	}
}

func gridPath(dir string, step int64) string {
	return filepath.Join(dir, rundir.SamplesDir, rundir.GridName(step))
}

func TestTrimLog(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		after    int64
		want     string // file afterwards
		err      string // substring of the error; "" = none
	}{
		{"later steps dropped", "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n", 2, "{\"step\":1}\n{\"step\":2}\n", ""},
		{"nothing to drop", "{\"step\":1}\n", 5, "{\"step\":1}\n", ""},
		{"torn last line (crash)", "{\"step\":1}\n{\"st", 5, "{\"step\":1}\n", ""},
		{"fresh run empties", "{\"step\":1}\n", 0, "", ""},
		{"corrupt middle line", "{\"step\":1}\nxx\n{\"step\":2}\n", 5, "", "line 2"},
		{"line without a step", "{\"mmd2\":1}\n{\"step\":2}\n", 5, "", `no "step"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.jsonl")
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			var seen int
			err := trimLog(path, tc.after, func([]byte) error { seen++; return nil })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want || (tc.after > 0 && seen != strings.Count(tc.want, "\n")) {
				t.Fatalf("file %q (%d lines seen), want %q", got, seen, tc.want)
			}
		})
	}
	if err := trimLog(filepath.Join(t.TempDir(), "absent.jsonl"), 3, nil); err != nil {
		t.Fatalf("absent log: %v", err)
	}
}

func TestPreviewOptionsFollowTheRun(t *testing.T) {
	c := tinyConfig(t, 5)
	c.Sched.TMin, c.Sched.BetaMax, c.Sample.Particles, c.Seed, c.RefRatio = 0.01, 12, 16, 9, 0.5
	o := previewOptions(&c)
	if o.Flow.Schedule != c.Sched || o.Flow.TMin != 0.01 || o.Flow.Particles != 16 || o.N != 16 || o.Flow.Seed != 9 ||
		o.Flow.RefRatio != 0.5 || o.Flow.Update != sample.DDIM || o.Flow.Eta != sample.DefaultDDIMEta {
		t.Fatalf("preview options %+v do not follow the run's schedule, t_min, grid size, seed and reference ratio "+
			"(and its default update, ddim)", o)
	}
	c.RefRatio = 0
	if o := previewOptions(&c); o.Flow.Update != sample.Euler || o.Flow.RefRatio != 0 {
		t.Fatalf("rho = 0: preview update %v, reference ratio %v, want euler and 0", o.Flow.Update, o.Flow.RefRatio)
	}
}
