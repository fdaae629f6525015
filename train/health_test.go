package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDivergenceNamesTheLastGoodCheckpoint is the example: -lr 1e6 ruins the weights in one Adam step,
// which is finite, so the checkpoint written right after it looked good; the run diverged a step later and kept
// it as "the last good checkpoint", and resuming from it diverged again. The report must name the newest
// checkpoint whose next step was normal, -keep 1 must not have deleted it, and resuming from it must work.
func TestDivergenceNamesTheLastGoodCheckpoint(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	c := tinyConfig(t, 5)
	c.Run.Keep = 1
	if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.Steps, bad.Adam.LR, bad.Run.CkptEvery = 20, 1e6, 1
	set := map[string]bool{"steps": true, "lr": true, "ckpt-every": true}
	_, err := Run(context.Background(), bad, Options{Out: dir, Dataset: ds, Set: set, ResumeCommand: "train -out " + dir})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("-lr 1e6: %v", err)
	}
	for _, want := range []string{"normal range is ckpt-000000005.safetensors", "ckpt-000000006.safetensors",
		"suspect", "resume from it with: train -out " + dir + " -resume-from 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("divergence report lacks %q: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ckpt-000000005.safetensors")); err != nil {
		t.Fatalf("-keep 1 deleted the good checkpoint: %v", err)
	}

	// Resuming from it with the usual learning rate trains to the end, exactly as a run that never diverged.
	good := c
	good.Steps, good.Adam.LR = 20, tinyConfig(t, 1).Adam.LR
	res, err := Run(context.Background(), good, Options{Out: dir, Dataset: ds, ResumeFrom: 5,
		Set: map[string]bool{"steps": true, "lr": true}})
	if err != nil || res.Step != 20 {
		t.Fatalf("resume from step 5: %+v, %v", res, err)
	}
	straight := filepath.Join(t.TempDir(), "straight")
	if _, err := Run(context.Background(), good, Options{Out: straight, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	a, b := finalTensors(t, straight), finalTensors(t, dir)
	for name, v := range a {
		if string(v) != string(b[name]) {
			t.Errorf("%s differs from a run that never diverged", name)
		}
	}
	// -resume-from a step without a checkpoint is an error listing the steps there are.
	_, err = Run(context.Background(), good, Options{Out: dir, Dataset: ds, ResumeFrom: 7})
	if err == nil || !strings.Contains(err.Error(), "-resume-from 7") || !strings.Contains(err.Error(), "checkpoints of this run: steps") {
		t.Errorf("-resume-from 7: %v", err)
	}
}

// TestHealthNormalRange checks the normal range on made-up steps: finite values within 1000 times the running
// median pass, blow-ups and non-finite values do not, and a checkpoint becomes good with the normal step after it.
func TestHealthNormalRange(t *testing.T) {
	h := newHealth()
	h.saved(0)
	steps := []struct {
		loss, pgn float64
		normal    bool
	}{
		{0.5, 20, true}, {0.4, 30, true}, {-0.2, 2800, true}, {0.3, 25, true},
		{1e6, 25, false}, {0.3, 1.4e7, false}, {math.NaN(), 20, false}, {0.3, 20, true},
	}
	for i, s := range steps {
		step := int64(i + 1)
		if step == 4 || step == 5 {
			h.saved(step - 1) // checkpoints at steps 3 and 4: 3 is confirmed by step 4, 4 never (step 5 blows up)
		}
		why := h.observe(step, s.loss, s.pgn)
		if (why == "") != s.normal {
			t.Errorf("step %d (loss %v, norm %v): normal = %v (%s), want %v", step, s.loss, s.pgn, why == "", why, s.normal)
		}
	}
	if h.good != 3 {
		t.Errorf("newest good checkpoint %d, want 3", h.good)
	}
}
