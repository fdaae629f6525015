package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/model"
)

func replicasConfig(t *testing.T, steps int64, r int) Config {
	c := tinyConfig(t, steps)
	c.Loss.Groups, c.Replicas = 4, r
	return c
}

// TestReplicasTrainAndResume: -replicas 2 trains the loss of one graph (the first step's terms agree to float32
// rounding; later steps drift apart only by rounding), records the setting, says it on the first line, and a run
// interrupted between checkpoints resumes bit-identically.
func TestReplicasTrainAndResume(t *testing.T) {
	ds := synthetic(t, 40, 1)
	const k = 8
	one := filepath.Join(t.TempDir(), "one")
	if _, err := Run(context.Background(), replicasConfig(t, k, 1), Options{Out: one, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(t.TempDir(), "full")
	var log strings.Builder
	if _, err := Run(context.Background(), replicasConfig(t, k, 2), Options{Out: full, Dataset: ds, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(log.String(), "\n"); !strings.Contains(first, "2 replicas") {
		t.Errorf("first line does not say the replicas: %q", first)
	}
	a, b := losses(t, one), losses(t, full)
	for i, name := range []string{"t", "loss", "mmd2", "l2", "penalty"} {
		if math.Abs(a[0][i]-b[0][i]) > 1e-5*math.Max(1e-3, math.Abs(a[0][i])) {
			t.Errorf("step 1 %s: one graph %.9g, 2 replicas %.9g", name, a[0][i], b[0][i])
		}
	}
	if b, err := os.ReadFile(filepath.Join(full, "config.json")); err != nil || !strings.Contains(string(b), `"replicas": 2`) {
		t.Errorf("config.json does not record the replicas (%v):\n%s", err, b)
	}

	split := filepath.Join(t.TempDir(), "split")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, replicasConfig(t, k, 2), Options{Out: split, Dataset: ds, AfterStep: func(step int64, _ model.Stats) {
		if step == k/2+1 { // not on a checkpoint boundary
			cancel()
		}
	}})
	if err != nil || !res.Interrupted {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	if res, err = Run(context.Background(), replicasConfig(t, k, 2), Options{Out: split, Dataset: ds}); err != nil || !res.Resumed {
		t.Fatalf("resumed run: %+v, %v", res, err)
	}
	if x, y := losses(t, full), losses(t, split); !slices.Equal(x, y) {
		t.Fatalf("loss curves differ:\nfull  %v\nsplit %v", x, y)
	}
	fa, fb := finalTensors(t, full), finalTensors(t, split)
	for name, v := range fa {
		if !slices.Equal(v, fb[name]) {
			t.Errorf("tensor %s differs between the uninterrupted and the resumed run", name)
		}
	}
}

func TestReplicasValidate(t *testing.T) {
	for _, tc := range []struct {
		groups, replicas int
		levelWeight      float64
		flag             string
	}{
		{4, -1, 0, "-replicas"}, {4, 65, 0, "-replicas"}, {4, 3, 0, "-replicas"}, {2, 4, 0, "-replicas"},
		{4, 8, 0, "-replicas"}, {4, 4, 10, "-level-weight"},
	} {
		c := tinyConfig(t, 2)
		c.Loss.Groups, c.Replicas, c.LevelWeight = tc.groups, tc.replicas, tc.levelWeight
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("-groups %d -replicas %d -level-weight %v: err = %v, want one naming %s", tc.groups, tc.replicas,
				tc.levelWeight, err, tc.flag)
		}
	}
	for _, tc := range []struct{ groups, replicas, effective int }{{4, 0, 1}, {4, 1, 1}, {4, 2, 2}, {4, 4, 4}, {0, 2, 1}, {1, 2, 1}} {
		c := tinyConfig(t, 2)
		c.Loss.Groups, c.Replicas = tc.groups, tc.replicas
		if err := c.Validate(); err != nil {
			t.Errorf("-groups %d -replicas %d: %v", tc.groups, tc.replicas, err)
		}
		// One level per step has nothing to split: one graph (MNIST's default -replicas 2 with -groups 1).
		if got := c.effectiveReplicas(); got != tc.effective {
			t.Errorf("-groups %d -replicas %d: %d graphs, want %d", tc.groups, tc.replicas, got, tc.effective)
		}
	}
}
