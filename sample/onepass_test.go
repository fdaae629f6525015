package sample_test

import (
	"math"
	"testing"

	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/sample"
)

// twoPass hides a critic's one-pass method, so a flow runs the chunked two-pass step.
type twoPass struct{ sample.Critic }

// counted counts the one-pass calls of a model critic.
type counted struct {
	*model.Critic
	calls int
}

func (c *counted) ExactWitnessGrad(z []float32, t float64, mp []float64, out []float32) error {
	c.calls++
	return c.Critic.ExactWitnessGrad(z, t, mp, out)
}

// TestOnePassMatchesChunked: with a model critic the exact flow takes each step in one pass (ExactCritic) when it
// may, and its particles are bit for bit those of the chunked two-pass step, for both updates; with noise
// injection, or a group larger than max(Chunk, OnePassMax), it keeps the chunked step.
func TestOnePassMatchesChunked(t *testing.T) {
	cfg, err := model.Preset("tiny", 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, err := model.Init(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	crit, err := model.NewCritic(p, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer crit.Close()
	ds := cifarLike(t, 24)
	for _, u := range []sample.Update{sample.Euler, sample.DDIM} {
		o := sample.DefaultOptionsFor(sample.Exact, u, cfg.InputSize())
		o.Levels, o.StepsPerLevel, o.Particles, o.Chunk = 3, 2, 7, 3
		lv, err := o.LevelGrid()
		if err != nil {
			t.Fatal(err)
		}
		e, err := sample.ComputeEmbeddings(crit, ds, lv, sample.EmbedOptions{Batch: 8})
		if err != nil {
			t.Fatal(err)
		}
		run := func(c sample.Critic, o sample.Options) []float32 {
			f, err := sample.NewFlow(c, e, o)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]float32, f.GroupLen())
			if err := f.Group(1, out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		one := &counted{Critic: crit}
		got, want := run(one, o), run(twoPass{crit}, o)
		if one.calls != o.Levels*o.StepsPerLevel {
			t.Errorf("%v: %d one-pass steps, want %d", u, one.calls, o.Levels*o.StepsPerLevel)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: value %d is %v after one-pass steps, %v after two-pass steps", u, i, got[i], want[i])
			}
		}
		for _, tc := range []struct {
			name string
			edit func(*sample.Options)
		}{
			{"noise injection", func(o *sample.Options) { o.Noise = 0.1 }},
			{"group over max(Chunk, OnePassMax)", func(o *sample.Options) { o.Particles = sample.OnePassMax + 1 }},
		} {
			o2 := o
			tc.edit(&o2)
			c := &counted{Critic: crit}
			run(c, o2)
			if c.calls != 0 {
				t.Errorf("%v, %s: %d one-pass steps, want the chunked step", u, tc.name, c.calls)
			}
		}
	}
}
