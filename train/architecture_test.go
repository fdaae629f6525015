package train

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
)

// TestArchitectureFlagsReachTheModel: -head-hidden gives the run's network a hidden head layer of that width and
// -extra-levels appends levels of the preset's last width, recorded in config.json and the checkpoints (whose EMA
// weights load with them), and a resumed run refuses to change either.
func TestArchitectureFlagsReachTheModel(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	c := tinyConfig(t, 5)
	c.HeadHidden, c.ExtraLevels = 12, 1
	if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	saved := new(Config)
	if _, err := (&checkpoints.Run{Dir: dir}).ReadConfig(saved); err != nil {
		t.Fatal(err)
	}
	if saved.HeadHidden != 12 || saved.Model.HeadHidden != 12 {
		t.Fatalf("config.json: head_hidden %d, model.head_hidden %d, want 12", saved.HeadHidden, saved.Model.HeadHidden)
	}
	l, err := (&checkpoints.Run{Dir: dir}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := LoadEMA(l.File)
	if err != nil {
		t.Fatal(err)
	}
	i := p.Index("head.hidden.weight")
	if i < 0 || p.Specs()[i].Shape[0] != 12 {
		t.Fatalf("the checkpoint's EMA weights have no (12, F) head.hidden.weight: %v", p.Specs())
	}
	// The tiny preset (widths 4, 8; a stride-1 stem) on 8x8 images: levels of 8, 4 and now 2 pixels.
	if w, s := p.Config().Widths, p.Config().LevelSizes(); !slices.Equal(w, []int{4, 8, 8}) || !slices.Equal(s, []int{8, 4, 2}) {
		t.Fatalf("the checkpoint's model has widths %v at sizes %v, want [4 8 8] at [8 4 2]", w, s)
	}
	for _, tc := range []struct {
		flag string
		edit func(*Config)
	}{
		{"-head-hidden", func(c *Config) { c.HeadHidden = 0 }},
		{"-extra-levels", func(c *Config) { c.ExtraLevels = 2 }},
	} {
		now := *saved
		tc.edit(&now)
		if _, err := ResumeDiff(saved, &now); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("resume with another %s: err = %v, want a refusal naming it", tc.flag, err)
		}
	}
	for _, edit := range []func(*Config){
		func(c *Config) { c.HeadHidden = -1 },
		func(c *Config) { c.ExtraLevels = -1 },
		func(c *Config) { c.ExtraLevels = 9 },
	} {
		bad := tinyConfig(t, 5)
		edit(&bad)
		if err := bad.Validate(); err == nil {
			t.Errorf("accepted: -head-hidden %d -extra-levels %d", bad.HeadHidden, bad.ExtraLevels)
		}
	}
}
