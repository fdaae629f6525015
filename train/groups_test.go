package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// TestLossChoicesOnResume: -mmd and -l2 may change on resume and are recorded in the history; an empty choice
// (every run before the option) and its spelled-out default are the same setting.
func TestLossChoicesOnResume(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 2), Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(t, 3)
	c.Loss.MMD, c.Loss.L2 = model.MMDUnbiased, model.L2Witness // the defaults, spelled out: no change
	set := map[string]bool{"steps": true, "mmd": true, "l2": true}
	if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds, Set: set}); err != nil {
		t.Fatal(err)
	}
	c.Steps, c.Loss.MMD, c.Loss.L2 = 4, model.MMDBiased, model.L2SetMeans
	res, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds, Set: set})
	if err != nil || res.Step != 4 {
		t.Fatalf("%+v, %v", res, err)
	}
	run, _ := checkpoints.OpenRun(dir)
	var saved Config
	if _, err := run.ReadConfig(&saved); err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, h := range saved.History {
		flags = append(flags, h.Flag+":"+h.From+">"+h.To)
	}
	want := []string{"steps:2>3", "steps:3>4", "mmd:unbiased>biased", "l2:witness>set-means"}
	if !slices.Equal(flags, want) || saved.Loss.MMD != model.MMDBiased || saved.Loss.L2 != model.L2SetMeans {
		t.Errorf("history %v (want %v), loss %+v", flags, want, saved.Loss)
	}
}

func groupsConfig(t *testing.T, steps int64) Config {
	c := tinyConfig(t, steps)
	c.Loss.Groups = 2
	return c
}

// TestGroupsTrainAndResume: with -groups 2 each step draws two levels, records them, trains, and a run interrupted
// between checkpoints resumes bit-identically.
func TestGroupsTrainAndResume(t *testing.T) {
	ds := synthetic(t, 40, 1)
	const k = 8
	full := filepath.Join(t.TempDir(), "full")
	if _, err := Run(context.Background(), groupsConfig(t, k), Options{Out: full, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	rs, err := ReadMetrics(full)
	if err != nil || len(rs) != k {
		t.Fatalf("%d records, %v", len(rs), err)
	}
	distinct := false
	for _, r := range rs {
		if len(r.Levels) != 2 || r.T != r.Levels[0] {
			t.Fatalf("step %d: t %v, levels %v", r.Step, r.T, r.Levels)
		}
		for _, l := range r.Levels {
			if !(l >= diffusion.Default().TMin && l <= 1) {
				t.Errorf("step %d: level %v outside [tmin, 1]", r.Step, l)
			}
		}
		distinct = distinct || r.Levels[0] != r.Levels[1]
	}
	if !distinct {
		t.Error("the two groups always had the same level")
	}
	// One level per step (the default) writes no levels.
	one := filepath.Join(t.TempDir(), "one")
	if _, err := Run(context.Background(), tinyConfig(t, 2), Options{Out: one, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(one, MetricsName)); bytes.Contains(b, []byte("levels")) {
		t.Errorf("one level per step writes levels:\n%s", b)
	}

	split := filepath.Join(t.TempDir(), "split")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, groupsConfig(t, k), Options{Out: split, Dataset: ds, AfterStep: func(step int64, _ model.Stats) {
		if step == k/2+1 { // not on a checkpoint boundary
			cancel()
		}
	}})
	if err != nil || !res.Interrupted {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	if res, err = Run(context.Background(), groupsConfig(t, k), Options{Out: split, Dataset: ds}); err != nil || !res.Resumed {
		t.Fatalf("resumed run: %+v, %v", res, err)
	}
	a, b := losses(t, full), losses(t, split)
	if len(a) != k || !slices.Equal(a, b) {
		t.Fatalf("loss curves differ:\nfull  %v\nsplit %v", a, b)
	}
	ra, _ := ReadMetrics(split)
	for i := range rs {
		if !slices.Equal(rs[i].Levels, ra[i].Levels) {
			t.Errorf("step %d: levels %v and %v", i+1, rs[i].Levels, ra[i].Levels)
		}
	}
	fa, fb := finalTensors(t, full), finalTensors(t, split)
	for name, v := range fa {
		if !slices.Equal(v, fb[name]) {
			t.Errorf("tensor %s differs between the uninterrupted and the resumed run", name)
		}
	}

	// -groups changes the random streams: a resume may not change it, either way.
	for _, groups := range []int{0, 4} {
		c := groupsConfig(t, k+2)
		c.Loss.Groups = groups
		_, err := Run(context.Background(), c, Options{Out: split, Dataset: ds, Set: map[string]bool{"groups": true, "steps": true}})
		if err == nil || !strings.Contains(err.Error(), "-groups (run has 2") {
			t.Errorf("-groups %d on resume: %v", groups, err)
		}
	}
}

func TestGroupsMustSplitTheBatch(t *testing.T) {
	c := tinyConfig(t, 2)
	for _, g := range []int{3, 8} { // 3 does not divide 8; 8 groups would hold one image each
		c.Loss.Groups = g
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "-groups") {
			t.Errorf("-batch %d -groups %d: %v", c.Batch, g, err)
		}
	}
}

// TestGroupsNoiseEachGroupAtItsLevel: on constant images (x0 = -1) the noisy batch's group g is
// alpha(t_g) x0 + beta(t_g) eps, so its mean and spread follow its own level.
func TestGroupsNoiseEachGroupAtItsLevel(t *testing.T) {
	ds, err := data.NewU8(data.Shape{C: 1, H: 8, W: 8}, make([]uint8, 40*64), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(t, 1)
	c.Batch, c.Loss.Groups = 32, 4
	tr, _, err := setup(c, Options{Out: t.TempDir(), Dataset: ds})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.metrics.close()
	defer tr.step.Close()
	for step := 0; step < 3; step++ {
		if _, err := tr.compute(); err != nil {
			t.Fatal(err)
		}
		n := len(tr.xt) / len(tr.levels)
		for g, level := range tr.levels {
			a, b := tr.sched.AlphaBeta(level)
			var sum, sq float64
			for _, v := range tr.xt[g*n : (g+1)*n] {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
			mean := sum / float64(n)
			std := math.Sqrt(sq/float64(n) - mean*mean)
			// 512 values: the mean is within 4 standard errors, the spread within 20%.
			if math.Abs(mean+a) > 4*b/math.Sqrt(float64(n)) || math.Abs(std-b) > 0.2*b {
				t.Errorf("step %d, group %d at t = %.3f: mean %.4f (want %.4f), spread %.4f (want %.4f)",
					step, g, level, mean, -a, std, b)
			}
		}
	}
}
