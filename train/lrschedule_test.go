package train

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/rundir"
)

func TestLRAt(t *testing.T) {
	for _, tc := range []struct {
		name            string
		steps           int64
		cooldown, final float64
		step            int64
		want            float64 // as a fraction of -lr
	}{
		{"constant", 100, 0, 0, 100, 1},
		{"before the cooldown", 100, 0.25, 0, 75, 1},
		{"first cooldown step", 100, 0.25, 0, 76, 1 - 1.0/25},
		{"half way", 100, 0.25, 0, 88, 1 - 13.0/25},
		{"last step, to zero", 100, 0.25, 0, 100, 0},
		{"last step, to a third", 100, 0.25, 1.0 / 3, 100, 1.0 / 3},
		{"half way, to a half", 8, 0.5, 0.5, 6, 0.75},
		{"the whole run", 4, 1, 0, 1, 0.75},
		{"a cooldown rounding to no step", 10, 0.01, 0, 10, 1},
		{"past the end (a shortened run)", 10, 0.5, 0.2, 12, 0.2},
	} {
		c, _ := DefaultConfig("mnist")
		c.Steps, c.LRCooldown, c.LRFinal = tc.steps, tc.cooldown, tc.final
		got := c.LRAt(tc.step) / c.Adam.LR
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: LRAt(%d) = %v -lr, want %v", tc.name, tc.step, got, tc.want)
		}
	}
}

func TestLRScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		cooldown, final float64
		flag            string
	}{
		{-0.1, 0, "-lr-cooldown"}, {1.5, 0, "-lr-cooldown"}, {math.NaN(), 0, "-lr-cooldown"},
		{0.1, -1, "-lr-final"}, {0.1, 2, "-lr-final"}, {0.1, math.Inf(1), "-lr-final"},
	} {
		c, _ := DefaultConfig("mnist")
		c.LRCooldown, c.LRFinal = tc.cooldown, tc.final
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("cooldown %v final %v: err = %v, want one naming %s", tc.cooldown, tc.final, err, tc.flag)
		}
	}
}

// TestLRCooldownReachesAdam: the cooldown's rate is the one Adam applies and the metrics record. With the rate
// falling to 0 at the last of 8 steps, the trained weights after step 8 are exactly those of a 7-step run (Adam's
// step is lr times a finite ratio), while a constant rate moves them; the first steps are the constant run's.
func TestLRCooldownReachesAdam(t *testing.T) {
	ds := synthetic(t, 40, 1)
	run := func(steps int64, cooldown float64) (string, Config) {
		c := tinyConfig(t, steps)
		c.LRCooldown, c.LRFinal = cooldown, 0
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
			t.Fatal(err)
		}
		return dir, c
	}
	seven, _ := run(7, 0)
	constant, _ := run(8, 0)
	cooled, cfg := run(8, 0.125)
	a, b, d := finalTensors(t, seven), finalTensors(t, constant), finalTensors(t, cooled)
	params := 0
	for name, v := range a {
		if !strings.HasPrefix(name, string(rundir.Trained)) {
			continue
		}
		params++
		if !bytes.Equal(v, d[name]) {
			t.Errorf("%s: a last step at rate 0 moved the weights", name)
		}
	}
	if params == 0 {
		t.Fatal("no trained weights in the checkpoint")
	}
	moved := false
	for name, v := range a {
		moved = moved || (strings.HasPrefix(name, string(rundir.Trained)) && !bytes.Equal(v, b[name]))
	}
	if !moved {
		t.Error("the constant rate's step 8 did not move the weights: the test proves nothing")
	}
	rs, err := ReadMetrics(cooled)
	if err != nil || len(rs) != 8 {
		t.Fatalf("metrics: %d records, %v", len(rs), err)
	}
	for _, r := range rs {
		if r.LR != cfg.LRAt(r.Step) {
			t.Errorf("step %d: metrics lr %v, want %v", r.Step, r.LR, cfg.LRAt(r.Step))
		}
	}
	if rs[7].LR != 0 || rs[6].LR != cfg.Adam.LR {
		t.Errorf("lr at steps 7, 8: %v, %v; want %v, 0", rs[6].LR, rs[7].LR, cfg.Adam.LR)
	}
}

// TestDescribeLR: the trainer's first line states the rate, beta1 and, with a cooldown, where it ends and over how
// many steps.
func TestDescribeLR(t *testing.T) {
	for _, tc := range []struct {
		lr, beta1, cooldown, final float64
		steps                      int64
		want                       string
	}{
		{3e-4, 0.5, 0, 0, 1000, "lr 0.0003 (Adam beta1 0.5)"},
		{1.2e-3, 0.9, 0.25, 0.1, 24000, "lr 0.0012 (Adam beta1 0.9), falling to 0.00012 over the last 6000 steps"},
		{1e-3, 0.9, 0.25, 0, 2000, "lr 0.001 (Adam beta1 0.9), falling to 0 over the last 500 steps"},
		{1e-3, 0.9, 0.0001, 0.1, 1000, "lr 0.001 (Adam beta1 0.9)"}, // rounds to no cooldown step
	} {
		c, err := DefaultConfig("mnist")
		if err != nil {
			t.Fatal(err)
		}
		c.Adam.LR, c.Adam.Beta1, c.LRCooldown, c.LRFinal, c.Steps = tc.lr, tc.beta1, tc.cooldown, tc.final, tc.steps
		if got := c.describeLR(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc, got, tc.want)
		}
	}
}
