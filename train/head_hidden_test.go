package train

import (
	"context"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
)

// TestHeadHiddenReachesTheModel: -head-hidden gives the run's network a hidden head layer of that width, recorded in
// config.json and the checkpoints (whose EMA weights load with it), and a resumed run refuses to change it.
func TestHeadHiddenReachesTheModel(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	c := tinyConfig(t, 5)
	c.HeadHidden = 12
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
	now := *saved
	now.HeadHidden = 0
	if _, err := ResumeDiff(saved, &now); err == nil || !strings.Contains(err.Error(), "-head-hidden") {
		t.Fatalf("resume with another -head-hidden: err = %v, want a refusal naming -head-hidden", err)
	}
	bad := tinyConfig(t, 5)
	bad.HeadHidden = -1
	if err := bad.Validate(); err == nil {
		t.Error("-head-hidden -1 accepted")
	}
}
