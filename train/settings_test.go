package train

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// TestDefaultsUnchanged: the defaults derived from the settings table are, field for field, those that the code
// before the table wrote (testdata/defaults-v1.json, written by DefaultConfig before the change), but for the
// deliberate changes since: MNIST's and CIFAR-10's sample-quality recipe (-groups 8, -ref-ratio 0.8, -grad-clip 2,
// -mmd paired, -penalty zero; then -extra-levels 2; then MNIST's narrow preset at batch 32 for 24,000 steps; then
// MNIST's optimiser: -lr 1.2e-3 -beta1 0.9 -grad-clip 0.5 -lr-cooldown 0.25 -lr-final 0.1, and a sample grid every
// 4,000 steps; issue 10; then MNIST's step as 2 replicas and 32,000 steps, issue 13).
func TestDefaultsUnchanged(t *testing.T) {
	b, err := os.ReadFile("testdata/defaults-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var v1 map[string]Config
	if err := json.Unmarshal(b, &v1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{datasets.MNIST, datasets.CIFAR10} {
		c := v1[name]
		c.Loss.Groups, c.RefRatio, c.GradClip, c.Loss.MMD = 8, 0.8, 2, model.MMDPaired
		c.Loss.Penalty, c.ExtraLevels = model.PenaltyZero, 2
		v1[name] = c
	}
	mnist := v1[datasets.MNIST]
	mnist.Preset, mnist.Batch, mnist.Steps = "narrow", 32, 24000
	mnist.Adam.LR, mnist.Adam.Beta1, mnist.GradClip, mnist.Sample.Every = 1.2e-3, 0.9, 0.5, 4000
	mnist.LRCooldown, mnist.LRFinal = 0.25, 0.1
	mnist.Replicas, mnist.Steps = 2, 32000
	v1[datasets.MNIST] = mnist
	want, _ := json.MarshalIndent(v1, "", "  ")
	all := map[string]Config{}
	for _, name := range datasets.Names {
		if all[name], err = DefaultConfig(name); err != nil {
			t.Fatal(err)
		}
	}
	got, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the defaults changed:\n%s\nwant\n%s", got, want)
	}
	if len(want) < len(b)-2 {
		t.Errorf("the golden file lost fields on the way through Config: %d bytes -> %d", len(b), len(want))
	}
}

// TestConfigFromEarlierVersions: config.json and checkpoint metadata written before the settings table (here a
// resumed run's config.json, testdata/config-v1.json) load unchanged and write back byte for byte, and the t
// distribution's other spellings still read.
func TestConfigFromEarlierVersions(t *testing.T) {
	b, err := os.ReadFile("testdata/config-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := json.Unmarshal(file.Config, &c); err != nil {
		t.Fatal(err)
	}
	if c.TDist != diffusion.TQuad || c.Loss.PenaltyAt != model.PenaltyAtXT || c.Run.CkptInterval.String() != "1h0m0s" ||
		len(c.History) != 4 || c.Model.ImageSize != 8 {
		t.Errorf("loaded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	again, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, file.Config); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, compact.Bytes()) {
		t.Errorf("written back differently:\n%s\nwas\n%s", again, compact.Bytes())
	}
	if d := settings.Diff(&c, &c); len(d) != 0 {
		t.Errorf("a configuration differs from itself: %+v", d)
	}
	for _, spelling := range []string{"quadratic", "QUAD"} {
		var o Config
		js := strings.Replace(string(file.Config), `"t_dist": "quad"`, `"t_dist": "`+spelling+`"`, 1)
		if err := json.Unmarshal([]byte(js), &o); err != nil || o.TDist != diffusion.TQuad {
			t.Errorf("t_dist %q: %v, %v", spelling, o.TDist, err)
		}
	}
	var bad Config
	if err := json.Unmarshal([]byte(`{"t_dist": "beta"}`), &bad); err == nil {
		t.Error(`t_dist "beta" accepted`)
	}
}
