package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/internal/sharedtest"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
)

// synthetic returns n 8x8 grey images of random blobs: a dataset the tiny critic can tell from noise.
func synthetic(t testing.TB, n int, seed uint64) *data.U8 {
	t.Helper()
	const s = 8
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]uint8, n*s*s)
	for i := 0; i < n; i++ {
		cx, cy, r := rng.Float64()*s, rng.Float64()*s, 1.5+rng.Float64()*2
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				v := 255 * math.Exp(-d*d/(2*r*r))
				pix[i*s*s+y*s+x] = uint8(v)
			}
		}
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: s, W: s}, pix, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func tinyConfig(t testing.TB, steps int64) Config {
	t.Helper()
	c, err := DefaultConfig("folder")
	if err != nil {
		t.Fatal(err)
	}
	c.Preset, c.Batch, c.Steps, c.Seed = "tiny", 8, steps, 3
	c.Run.CkptEvery, c.Run.LogEvery, c.Run.Keep = 5, 5, 2
	c.Run.CkptInterval = 0
	return c
}

// losses returns the loss terms of a run's metrics, without the wall-clock fields.
func losses(t *testing.T, dir string) [][5]float64 {
	t.Helper()
	rs, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][5]float64, len(rs))
	for i, r := range rs {
		if r.Step != int64(i+1) {
			t.Fatalf("%s: record %d is step %d", dir, i, r.Step)
		}
		out[i] = [5]float64{r.T, r.Loss, r.MMD2, r.L2, r.GradPenalty}
	}
	return out
}

// latestFile returns a run's latest checkpoint file.
func latestFile(t *testing.T, dir string) *checkpoints.File {
	t.Helper()
	run, err := checkpoints.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := run.Latest()
	if err != nil {
		t.Fatal(err)
	}
	return ld.File
}

// latestTrained returns the trained (not EMA) weights of a run's latest checkpoint.
func latestTrained(t *testing.T, dir string) *model.Params {
	t.Helper()
	p, _, err := LoadTrained(latestFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// finalTensors returns every tensor of a run's latest checkpoint (parameters, EMA, Adam moments, states).
func finalTensors(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	f := latestFile(t, dir)
	out := map[string][]byte{}
	for _, name := range f.Names() {
		tn, _ := f.Tensor(name)
		out[name] = slices.Clone(tn.Data)
	}
	return out
}

func TestResumeIsBitIdentical(t *testing.T) {
	ds := synthetic(t, 40, 1)
	const k = 12
	full := filepath.Join(t.TempDir(), "full")
	if _, err := Run(context.Background(), tinyConfig(t, k), Options{Out: full, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	// Half the run, interrupted after step k/2 (as SIGTERM does: the context is cancelled), then resumed to k.
	split := filepath.Join(t.TempDir(), "split")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, tinyConfig(t, k), Options{Out: split, Dataset: ds, AfterStep: func(step int64, _ model.Stats) {
		if step == k/2+1 { // not on a checkpoint boundary
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Step != k/2+1 {
		t.Fatalf("interrupted run: %+v", res)
	}
	res, err = Run(context.Background(), tinyConfig(t, k), Options{Out: split, Dataset: ds})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Step != k {
		t.Fatalf("resumed run: %+v", res)
	}
	a, b := losses(t, full), losses(t, split)
	if len(a) != k || !slices.Equal(a, b) {
		t.Fatalf("loss curves differ:\nfull  %v\nsplit %v", a, b)
	}
	fa, fb := finalTensors(t, full), finalTensors(t, split)
	if len(fa) != len(fb) {
		t.Fatalf("checkpoints hold %d and %d tensors", len(fa), len(fb))
	}
	for name, v := range fa {
		if !slices.Equal(v, fb[name]) {
			t.Errorf("tensor %s differs between the uninterrupted and the resumed run", name)
		}
	}
	// Running again when the run is complete does nothing and changes nothing.
	res, err = Run(context.Background(), tinyConfig(t, k), Options{Out: split, Dataset: ds})
	if err != nil || res.Step != k {
		t.Fatalf("re-run of a finished run: %+v, %v", res, err)
	}
}

func TestResumeRefusesModelAndDataChanges(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 5), Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		edit func(*Config)
	}{
		{"batch", func(c *Config) { c.Batch = 4 }},
		{"seed", func(c *Config) { c.Seed = 9 }},
		{"preset", func(c *Config) { c.Preset = "small" }},
		{"tmin", func(c *Config) { c.Sched.TMin = 0.01 }},
		{"tdist", func(c *Config) { c.TDist = diffusion.TUniform }},
		{"flip", func(c *Config) { c.Flip = true }},
	} {
		c := tinyConfig(t, 10)
		tc.edit(&c)
		_, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds, Set: map[string]bool{tc.flag: true, "steps": true}})
		if err == nil || !strings.Contains(err.Error(), "-"+tc.flag) {
			t.Errorf("-%s changed on resume: error %v", tc.flag, err)
		}
	}
	// Other data under the same name.
	c := tinyConfig(t, 10)
	_, err := Run(context.Background(), c, Options{Out: dir, Dataset: synthetic(t, 40, 2), Set: map[string]bool{"steps": true}})
	if err == nil || !strings.Contains(err.Error(), "is not the run's") {
		t.Errorf("different data on resume: %v", err)
	}
	// A harmless change is allowed and recorded.
	c.Adam.LR = 1e-4
	res, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true, "lr": true}})
	if err != nil || res.Step != 10 {
		t.Fatalf("harmless change: %+v, %v", res, err)
	}
	run, _ := checkpoints.OpenRun(dir)
	var saved Config
	if _, err := run.ReadConfig(&saved); err != nil {
		t.Fatal(err)
	}
	if len(saved.History) != 2 || saved.History[0].Step != 5 || saved.Adam.LR != 1e-4 {
		t.Errorf("history %+v, lr %v", saved.History, saved.Adam.LR)
	}
}

func TestOutDirSafety(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	mine := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(mine, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), tinyConfig(t, 2), Options{Out: dir, Dataset: ds})
	if !errors.Is(err, ErrNotRunDir) {
		t.Errorf("foreign directory: %v", err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "precious" {
		t.Error("a user file was touched")
	}
	run := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 2), Options{Out: run, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), tinyConfig(t, 4), Options{Out: run, Dataset: ds, Fresh: true}); err == nil {
		t.Error("-fresh accepted a non-empty directory")
	}
}

func TestDivergenceKeepsLastCheckpoint(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 5), Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	before := finalTensors(t, dir)
	c := tinyConfig(t, 10)
	c.Adam.LR = 1e30 // parameters overflow to Inf within a step or two
	_, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds, Set: map[string]bool{"steps": true, "lr": true}})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("diverging run returned %v", err)
	}
	if !strings.Contains(err.Error(), "ckpt-000000005.safetensors") {
		t.Errorf("error does not name the kept checkpoint: %v", err)
	}
	after := finalTensors(t, dir)
	for name, v := range before {
		if !slices.Equal(v, after[name]) {
			t.Fatalf("checkpoint tensor %s changed after the divergence", name)
		}
	}
	// metrics.jsonl: one record per step, in order, the diverging step (if its loss terms were not finite) last.
	rs, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Step != int64(i+1) {
			t.Fatalf("metrics record %d is step %d: %+v", i, r.Step, rs)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"dataset", func(c *Config) { c.Dataset = "imagenet" }},
		{"preset", func(c *Config) { c.Preset = "huge" }},
		{"batch", func(c *Config) { c.Batch = 1 }},
		{"steps", func(c *Config) { c.Steps = 0 }},
		{"lr", func(c *Config) { c.Adam.LR = -1 }},
		{"beta1", func(c *Config) { c.Adam.Beta1 = 1 }},
		{"ema", func(c *Config) { c.EMA = 1.5 }},
		{"tdist", func(c *Config) { c.TDist = diffusion.TDist(7) }},
		{"tmin", func(c *Config) { c.Sched.TMin = 0 }},
		{"lambda", func(c *Config) { c.Loss.LambdaGrad = math.Inf(1) }},
		{"keep", func(c *Config) { c.Run.Keep = 0 }},
		{"grad-clip", func(c *Config) { c.GradClip = -1 }},
		{"log", func(c *Config) { c.Run.LogEvery = 0 }},
		{"limit", func(c *Config) { c.DataLimit = 3 }},
		{"crop", func(c *Config) { c.CelebACrop = 100 }},
		{"sample-refs 1", func(c *Config) { c.Sample.Refs = 1 }},
		{"sample-refs < 0", func(c *Config) { c.Sample.Refs = -5 }},
	} {
		c, _ := DefaultConfig("cifar10")
		tc.edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, name := range []string{"cifar10", "celeba64", "mnist", "folder"} {
		c, err := DefaultConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s defaults: %v", name, err)
		}
	}
}

// TestCriticLearns trains the tiny preset for a few dozen steps and checks that the held-out MMD^2 between noisy
// and clean images at a fixed level grows: the discriminator learns.
func TestCriticLearns(t *testing.T) {
	all := synthetic(t, 400, 4)
	train, held := all.First(200), all.Subset(seqRange(200, 400))
	c := tinyConfig(t, 40)
	c.Adam.LR = 1e-3
	dir := t.TempDir()
	p0, err := model.Init(mustModel(t, c, train), c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	const level = 0.3
	before, err := HeldOutMMD(p0, held, c.Sched, level, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: train}); err != nil {
		t.Fatal(err)
	}
	p := latestTrained(t, dir)
	after, err := HeldOutMMD(p, held, c.Sched, level, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out MMD^2 at t=%v: %.4g before, %.4g after 40 steps", level, before, after)
	if !(after > 2*before && after > 0) {
		t.Errorf("the critic did not learn: held-out MMD^2 %.4g -> %.4g", before, after)
	}
}

func seqRange(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func mustModel(t *testing.T, c Config, ds data.Dataset) model.Config {
	t.Helper()
	m, err := model.Preset(c.Preset, ds.Shape().H, ds.Shape().C)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSettingsCopy checks that every resumable setting's copy moves exactly the value its getter reads.
func TestSettingsCopy(t *testing.T) {
	base, _ := DefaultConfig("mnist")
	other, _ := DefaultConfig("cifar10")
	other.Data, other.DataCache, other.DataLimit, other.MNISTPad32 = "x", "y", 999, true
	other.CelebACrop, other.FolderSize, other.Preset, other.Batch, other.Seed = 178, 48, "base", 7, 99
	other.Sched = diffusion.Schedule{BetaMin: 0.2, BetaMax: 10, TMin: 0.01}
	other.TDist, other.Loss.PenaltyAt, other.Steps = diffusion.TUniform, model.PenaltyAtXT, 5
	other.Loss.MMD, other.Loss.L2, other.Loss.Groups, other.Loss.Penalty = model.MMDBiased, model.L2Features, 4, model.PenaltyGP
	other.RefRatio, other.HeadHidden, other.ExtraLevels, other.LevelWeight = 0.5, 256, 1, 7
	other.Adam = model.AdamConfig{LR: 1, Beta1: 0.1, Beta2: 0.2, Eps: 1}
	other.LRCooldown, other.LRFinal = 0.5, 0.5
	other.EMA, other.Loss.LambdaGrad, other.Loss.LambdaL2, other.GradClip = 0.5, 3, 4, 100
	other.Run = RunSettings{CkptEvery: 3, CkptInterval: Duration(time.Hour), Keep: 9, LogEvery: 8}
	other.Sample = SampleSettings{Every: 11, Particles: 12}
	for _, s := range settings {
		dst := base
		if reflect.DeepEqual(s.Get(&dst), s.Get(&other)) {
			t.Errorf("-%s: the test configurations agree; change the test", s.Name())
			continue
		}
		if err := ApplyFlags(&dst, &other, map[string]bool{s.Name(): true}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Get(&dst), s.Get(&other)) {
			t.Errorf("-%s was not copied", s.Name())
		}
		changed := 0
		for _, o := range settings {
			if !reflect.DeepEqual(o.Get(&dst), o.Get(&base)) {
				changed++
			}
		}
		if changed != 1 {
			t.Errorf("-%s changed %d settings", s.Name(), changed)
		}
	}
	if err := ApplyFlags(&base, &other, map[string]bool{"nonsense": true}); err == nil {
		t.Error("unknown setting accepted")
	}
}

// TestRealMNIST30Steps trains the small preset on the real MNIST digits for 30 steps and checks that the run made
// progress: the held-out MMD^2 between noisy and clean test digits at a fixed level has grown, and the final
// checkpoint exists. (It was a 30-second wall-clock run, whose step count, and so its verdict, depended on the
// machine's load.)
func TestRealMNIST30Steps(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 30-step training run")
	}
	path := sharedtest.Path(t, "mnist")
	c, _ := DefaultConfig("mnist")
	c.Data = path
	c.Run.LogEvery = 10
	c.Steps = 30 // a step count, not a wall-clock budget: the test must not depend on the machine's speed or load
	c.Sample.Every = 0
	c.Run.DiagN = 0
	dir := t.TempDir()
	test, err := datasets.Open(datasets.Options{Name: datasets.MNIST, Path: path, Split: "test", Limit: 400})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Preset("small", 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := model.Init(m, c.Seed)
	const level = 0.2
	before, err := HeldOutMMD(p0, test, c.Sched, level, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), c, Options{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != c.Steps {
		t.Fatalf("30-step run: %+v", res)
	}
	p := latestTrained(t, dir)
	after, err := HeldOutMMD(p, test, c.Sched, level, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps; held-out MMD^2 at t=%v: %.4g before, %.4g after", res.Step, level, before, after)
	if !(after > 2*before && after > 0.1) {
		t.Errorf("no progress in %d steps: held-out MMD^2 %.4g -> %.4g", res.Step, before, after)
	}
}

// TestResumeSkipsCorruptCheckpoint damages the newest checkpoint: the run resumes from the one before, says so,
// and still ends bit-identical to an uninterrupted run.
func TestResumeSkipsCorruptCheckpoint(t *testing.T) {
	ds := synthetic(t, 40, 1)
	full := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 12), Options{Out: full, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Run(context.Background(), tinyConfig(t, 10), Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	newest := filepath.Join(dir, "ckpt-000000010.safetensors")
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(newest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res, err := Run(context.Background(), tinyConfig(t, 12), Options{Out: dir, Dataset: ds, Log: &log,
		Set: map[string]bool{"steps": true}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "warning") || !strings.Contains(log.String(), "from step 5") || res.Step != 12 {
		t.Errorf("resume after a corrupt checkpoint: %+v\n%s", res, log.String())
	}
	a, c := finalTensors(t, full), finalTensors(t, dir)
	for name, v := range a {
		if !slices.Equal(v, c[name]) {
			t.Errorf("%s differs after resuming past a corrupt checkpoint", name)
		}
	}
}

// TestGradClip checks that -grad-clip reaches the optimiser: with the gradient clipped far below Adam's epsilon
// the parameters barely move, and the metrics still record the norm before clipping.
func TestGradClip(t *testing.T) {
	ds := synthetic(t, 40, 1)
	moved := func(clip float64) (float64, float64) {
		c := tinyConfig(t, 5)
		c.GradClip = clip
		dir := t.TempDir()
		if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
			t.Fatal(err)
		}
		p0, _ := model.Init(mustModel(t, c, ds), c.Seed)
		run, _ := checkpoints.OpenRun(dir)
		ld, err := run.Latest()
		if err != nil {
			t.Fatal(err)
		}
		var d float64
		for i, s := range p0.Specs() {
			v, _, _ := ld.File.F32(string(rundir.Trained) + s.Name)
			for j, x := range p0.Float64s(i) {
				d += (float64(v[j]) - x) * (float64(v[j]) - x)
			}
		}
		rs, _ := ReadMetrics(dir)
		return math.Sqrt(d), rs[len(rs)-1].ParamGradNorm
	}
	free, n1 := moved(0)
	clipped, n2 := moved(1e-12)
	if !(clipped < free/100) {
		t.Errorf("parameters moved %.3g with the gradient clipped, %.3g without", clipped, free)
	}
	if !(n1 > 1e-6 && n2 > 1e-6) {
		t.Errorf("recorded gradient norms %v, %v should be the unclipped ones", n1, n2)
	}
}

// nanData is a dataset whose images are NaN: the first step's loss is not finite.
type nanData struct{ data.Dataset }

func (d nanData) Image(i int, dst []float32) {
	d.Dataset.Image(i, dst)
	dst[0] = float32(math.NaN())
}

func TestDivergenceRecordsTheFailingStep(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), tinyConfig(t, 5), Options{Out: dir, Dataset: nanData{synthetic(t, 40, 1)}})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("run on NaN images returned %v", err)
	}
	rs, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Step != 1 || !math.IsNaN(rs[0].Loss) {
		t.Fatalf("metrics after a diverged first step: %+v", rs)
	}
}
