package train

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestLevelWeightAt checks -level-weight's weights against the formula evaluated independently: 1 where the pair
// distance is largest, d_max/d(t) elsewhere, the cap where that exceeds it, and 1 everywhere when off.
func TestLevelWeightAt(t *testing.T) {
	c, err := DefaultConfig("mnist")
	if err != nil {
		t.Fatal(err)
	}
	d := func(tt float64) float64 {
		at, bt := c.Sched.AlphaBeta(tt)
		ar, br := c.Sched.AlphaBeta(0.8 * tt)
		return (ar-at)*(ar-at) + (br-bt)*(br-bt)
	}
	dmax, argmax := 0.0, 0.0
	for i := 0; i <= 100000; i++ {
		tt := c.Sched.TMin + (1-c.Sched.TMin)*float64(i)/100000
		if v := d(tt); v > dmax {
			dmax, argmax = v, tt
		}
	}
	c.LevelWeight = 30
	w := c.LevelWeightFunc()
	for _, tc := range []struct {
		t, want float64
	}{
		{argmax, 1},
		{0.2, dmax / d(0.2)},
		{0.9, dmax / d(0.9)},
		{1, dmax / d(1)},
		{0.01, 30}, // d_max/d(t) is about 650 here
		{c.Sched.TMin, 30},
	} {
		if got := w(tc.t); math.Abs(got-tc.want) > 1e-6*tc.want {
			t.Errorf("weight at t = %g: %g, want %g", tc.t, got, tc.want)
		}
		if got := c.LevelWeightAt(tc.t); got != w(tc.t) {
			t.Errorf("LevelWeightAt(%g) = %g, LevelWeightFunc gives %g", tc.t, got, w(tc.t))
		}
	}
	if got := w(0.2); !(got > 1.5 && got < 3) {
		t.Errorf("weight at t = 0.2: %g, want about 2.2", got)
	}
	c.LevelWeight = 0
	for _, tt := range []float64{c.Sched.TMin, 0.3, 1} {
		if got := c.LevelWeightAt(tt); got != 1 {
			t.Errorf("-level-weight 0: weight %g at t = %g, want 1", got, tt)
		}
	}
}

// TestLevelWeightRun: a weighted run draws the same levels as an unweighted one but trains on a different loss,
// refuses a change of -level-weight on resume, and bad values are refused up front.
func TestLevelWeightRun(t *testing.T) {
	ds := synthetic(t, 40, 1)
	run := func(w float64) [][5]float64 {
		c := tinyConfig(t, 5)
		c.Loss.Groups, c.LevelWeight = 2, w
		dir := t.TempDir()
		if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
			t.Fatal(err)
		}
		return losses(t, dir)
	}
	plain, weighted := run(0), run(20)
	for i := range plain {
		if plain[i][0] != weighted[i][0] {
			t.Fatalf("step %d: level %g, unweighted %g: the weights changed the random streams", i+1, weighted[i][0], plain[i][0])
		}
	}
	if plain[0][1] == weighted[0][1] {
		t.Errorf("the first step's loss %g is the unweighted one", weighted[0][1])
	}
	saved, now := tinyConfig(t, 10), tinyConfig(t, 10)
	saved.Loss.Groups, now.Loss.Groups = 2, 2
	saved.LevelWeight, now.LevelWeight = 20, 10
	if _, err := ResumeDiff(&saved, &now); err == nil || !strings.Contains(err.Error(), "-level-weight") {
		t.Errorf("resume with another -level-weight: err = %v, want a refusal naming it", err)
	}
	for _, tc := range []struct {
		w      float64
		groups int
	}{{0.5, 2}, {-1, 2}, {math.NaN(), 2}, {math.Inf(1), 2}, {5, 1}, {5, 0}} {
		c := tinyConfig(t, 5)
		c.Loss.Groups, c.LevelWeight = tc.groups, tc.w
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "-level-weight") {
			t.Errorf("-level-weight %v -groups %d: err = %v, want one naming -level-weight", tc.w, tc.groups, err)
		}
	}
}
