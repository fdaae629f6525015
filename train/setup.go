package train

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
)

// setup prepares a run in opt.Out: it checks the directory, decides between a fresh run, a restart and a resume
// (resume.go), records the configuration, opens the data, builds the state (from the checkpoint when resuming) and
// opens the logs, trimmed to the step it starts from.
func setup(cfg Config, opt Options) (*trainer, Result, error) {
	var res Result
	if opt.Out == "" {
		return nil, res, fmt.Errorf("%w: no run directory (-out)", ErrConfig)
	}
	if err := checkOutDir(opt.Out, opt.Fresh); err != nil {
		return nil, res, err
	}
	run, err := checkpoints.OpenRun(opt.Out)
	if err != nil {
		return nil, res, fmt.Errorf("train: %w", err)
	}
	if opt.ProgramVersion != "" {
		run.ProgramVersion = opt.ProgramVersion
	}
	lock, err := lockRunDir(opt.Out)
	if err != nil {
		return nil, res, err
	}
	t, res, err := setupRun(cfg, opt, run)
	if err != nil {
		lock.Close()
		return nil, res, err
	}
	t.lock = lock
	return t, res, nil
}

// setupRun is setup once the run directory is open and locked.
func setupRun(cfg Config, opt Options, run *checkpoints.Run) (*trainer, Result, error) {
	var res Result
	t := &trainer{opt: opt, run: run}
	rs, err := resolveRun(run, cfg, opt) // resume.go: resume, restart or a fresh run
	if err != nil {
		return nil, res, err
	}
	cfg, loaded := rs.cfg, rs.loaded
	res.Resumed, res.Restarted = loaded != nil, rs.restarted
	if res.Resumed {
		res.Checkpoint = loaded.Path
	}
	for _, m := range rs.messages {
		t.logf("%s", m)
	}
	if err := cfg.Validate(); err != nil {
		return nil, res, err
	}
	t.cfg = cfg
	if !rs.recorded { // a fresh run: record what it is before anything else can fail or take long
		if err := run.WriteConfig(&t.cfg); err != nil {
			return nil, res, fmt.Errorf("train: %w", err)
		}
	}
	if err := t.openData(rs.recorded && len(cfg.Model.Widths) > 0); err != nil {
		return nil, res, err
	}
	if err := t.build(loaded, res.Resumed); err != nil {
		return nil, res, err
	}
	if err := run.WriteConfig(&t.cfg); err != nil {
		return nil, res, fmt.Errorf("train: %w", err)
	}
	if err := trimLog(filepath.Join(opt.Out, WarningsName), t.st.step, nil); err != nil {
		t.logf("warning: %v (left as it is)", err)
	}
	if err := trimLog(filepath.Join(opt.Out, rundir.SamplesDir, ScoresName), t.st.step, nil); err != nil {
		t.warn("scores log", fmt.Errorf("%w (left as it is; new scores are appended)", err))
	}
	t.openCriticDiag()
	if t.metrics, err = openMetrics(opt.Out, t.st.step); err != nil { // last: nothing after it can fail
		return nil, res, err
	}
	t.health = newHealth()
	t.health.rebuild(t.metrics.history, run)
	res.Step = t.st.step
	return t, res, nil
}

// checkOutDir refuses an -out that holds files a run did not write (rundir.Ours), or any file with -fresh.
func checkOutDir(dir string, fresh bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: -out %s: %w", dir, err)
	}
	if len(entries) > 0 && fresh {
		return fmt.Errorf("%w: -out %s is not empty and -fresh is set; pick a new directory", ErrConfig, dir)
	}
	var foreign []string
	for _, e := range entries {
		if !rundir.Ours(e.Name()) {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		if len(foreign) > 5 {
			foreign = append(foreign[:5], "...")
		}
		return fmt.Errorf("%w: -out %s holds files a run did not write (%s); pick an empty or new directory",
			ErrNotRunDir, dir, strings.Join(foreign, ", "))
	}
	return nil
}

// openData opens the dataset, resolves the model for its shape and checks it against the run's fingerprint.
func (t *trainer) openData(resumed bool) error {
	c := &t.cfg
	ds := t.opt.Dataset
	if ds == nil {
		var err error
		ds, err = datasets.Open(datasets.Options{
			Name: c.Dataset, Path: c.Data, Download: t.opt.Download, CacheDir: c.DataCache,
			Size: c.FolderSize, Crop: c.CelebACrop, Pad32: c.MNISTPad32, Limit: c.DataLimit, Progress: t.opt.Log,
		})
		if err != nil {
			return err
		}
	}
	s := ds.Shape()
	if s.H != s.W {
		return fmt.Errorf("%w: images are %v; the network needs square images", ErrConfig, s)
	}
	if ds.Len() < 2 {
		return fmt.Errorf("%w: the dataset holds %d image(s); need at least 2", ErrConfig, ds.Len())
	}
	m, err := model.Preset(c.Preset, s.H, s.C)
	if err == nil {
		m.HeadHidden = c.HeadHidden
		for i := 0; i < c.ExtraLevels; i++ {
			m.Widths = append(m.Widths, m.Widths[len(m.Widths)-1])
		}
		err = m.Validate()
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if resumed && !slices.Equal(m.Widths, c.Model.Widths) {
		return fmt.Errorf("train: cannot resume: preset %q for %v data gives a different model than the run's", c.Preset, s)
	}
	if resumed {
		m = c.Model // keep the recorded model exactly (dtype included)
	}
	if m.ImageSize != s.H || m.Channels != s.C {
		return fmt.Errorf("train: cannot resume: the run's model is for %dx%dx%d images, the data is %v",
			m.Channels, m.ImageSize, m.ImageSize, s)
	}
	c.Model = m
	fp := fingerprint(ds)
	if resumed && c.Fingerprint != nil && fp != nil && *fp != *c.Fingerprint {
		return fmt.Errorf("train: cannot resume: the data at %s (%d images %s, hash %s) is not the run's (%d images %s, hash %s)",
			c.Data, fp.Count, fp.Shape, fp.Hash, c.Fingerprint.Count, c.Fingerprint.Shape, c.Fingerprint.Hash)
	}
	c.Fingerprint = fp
	t.ds = ds
	if ds.Len() < 2*c.Batch {
		t.logf("note: %d images for batches of 2x%d: images repeat within a step", ds.Len(), c.Batch)
	}
	return nil
}

// fingerprint hashes a uint8 dataset's pixels (FNV-64a); other datasets get none.
func fingerprint(ds data.Dataset) *DataFingerprint {
	u, ok := ds.(*data.U8)
	if !ok {
		return nil
	}
	h := fnv.New64a()
	h.Write(u.Pix())
	return &DataFingerprint{Count: u.Len(), Shape: u.Shape().String(), Hash: fmt.Sprintf("%016x", h.Sum64())}
}

// build creates the parameters, optimiser, EMA, random streams and the compiled step, from a checkpoint if given.
func (t *trainer) build(loaded *checkpoints.Loaded, resumed bool) error {
	c := &t.cfg
	var err error
	t.sched, t.tdist = c.Sched, c.TDist
	if t.st.params, err = model.Init(c.Model, c.Seed); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if t.st.adam, err = model.NewAdam(t.st.params, c.Adam); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if t.st.ema, err = model.NewEMA(t.st.params, c.EMA); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	t.st.pcg = rand.NewPCG(c.Seed, 0x646d6d64) // "dmmd"
	t.st.sampler = data.NewSampler(t.ds.Len(), c.Seed, c.Flip)
	if resumed {
		if err := t.st.restore(loaded.File, c); err != nil {
			return err
		}
		// Settings that may change on resume take their new values.
		t.st.adam.Config = c.Adam
		t.st.ema.Decay = c.EMA
		t.lastCkpt, t.lastSaved = loaded.Path, t.st.step
	}
	t.rng = rand.New(t.st.pcg)
	lc := c.Loss
	lc.LevelWeights = c.LevelWeight > 0
	if t.step, err = model.NewTrainStepReplicas(t.st.params, c.Batch, lc, c.effectiveReplicas()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	n := c.Batch * c.Model.InputSize()
	t.y, t.x0, t.xt = make([]float32, n), make([]float32, n), make([]float32, n)
	if t.cfg.Loss.MMD == model.MMDPaired {
		t.eps = make([]float32, n)
	}
	t.levels = make([]float64, t.step.Groups())
	if lc.LevelWeights {
		t.weights, t.weightAt = make([]float64, len(t.levels)), c.LevelWeightFunc()
	}
	if c.Loss.PenaltyAt == model.PenaltyAtInterp {
		t.z = make([]float32, n)
	}
	return nil
}
