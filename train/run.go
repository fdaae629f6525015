package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

// Options are the settings of one invocation that are not part of the run's configuration.
type Options struct {
	Out            string          // the run directory
	Fresh          bool            // refuse to reuse a non-empty Out
	ResumeFrom     int64           // resume from the checkpoint of this step instead of the latest (0: the latest)
	Set            map[string]bool // settings given explicitly (flag names): on resume only these override the run's
	Download       bool            // cifar10: download the dataset when absent
	Log            io.Writer       // messages and progress (nil: silent)
	Terminal       bool            // Log is a terminal: draw a progress bar instead of log lines
	ProgramVersion string          // recorded in config.json
	ResumeCommand  string          // the command that resumes this run, shown after an interrupt

	// Dataset, when set, is used instead of opening cfg.Dataset (tests and embedding programs).
	Dataset data.Dataset
	// AfterStep, when set, is called after every completed step (tests use it to interrupt a run).
	AfterStep func(step int64, st model.Stats)
}

// Result summarises a Run.
type Result struct {
	Step        int64       // completed steps
	Resumed     bool        // the run continued from a checkpoint
	Restarted   bool        // the run had config.json but no checkpoint yet, and started again from step 0
	Interrupted bool        // the context was cancelled (SIGINT/SIGTERM) and a checkpoint was written
	Checkpoint  string      // the last checkpoint written or resumed from
	Last        model.Stats // the last step's loss terms
	StepsPerSec float64     // measured in this process
}

// ErrDiverged is wrapped by the error returned when a loss term, a gradient or a parameter stops being finite.
var ErrDiverged = errors.New("train: training diverged")

// ErrNotRunDir is wrapped when Out holds files that a dmmd run did not write.
var ErrNotRunDir = errors.New("train: not a dmmd run directory")

// trainer holds a run in progress.
type trainer struct {
	cfg     Config
	opt     Options
	run     *checkpoints.Run
	ds      data.Dataset
	st      state
	step    *model.TrainStep
	sched   diffusion.Schedule
	tdist   diffusion.TDist
	rng     *rand.Rand
	metrics *metricsLog
	rep     *reporter
	critic  *model.Critic  // EMA critic for sample grids, built on first use
	scorer  *sample.Scorer // reference images for the sample score, built on first use
	diag    diagnostics    // optional diagnostics that failed (optional.go)
	health  *health        // normal steps and good checkpoints (health.go)
	cdiag   criticDiagLog  // critic diagnostics at checkpoints (critic_trainer.go)

	scorerFailed bool // the data allow no sample score (recorded in warnings.jsonl)

	y, x0, xt []float32
	z         []float32 // penalty points (PenaltyAt interp)
	levels    []float64 // this step's levels, one per group (-groups)
	lastCkpt  string
	lastSaved int64
	lastTime  time.Time
}

// Run trains until cfg.Steps steps are done or ctx is cancelled. A run directory with a checkpoint is resumed:
// its saved configuration is used, overridden by the settings in opt.Set, and a change to a setting that alters
// the model, the data or the random streams is refused. On cancellation Run finishes the current step, writes a
// checkpoint and returns with Result.Interrupted set and a nil error.
func Run(ctx context.Context, cfg Config, opt Options) (Result, error) {
	t, res, err := setup(cfg, opt)
	if err != nil {
		return res, err
	}
	defer t.metrics.close()
	defer func() {
		if t.critic != nil {
			t.critic.Close()
		}
		t.step.Close()
	}()
	return t.loop(ctx, res)
}

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

func (t *trainer) logf(format string, args ...any) {
	if t.rep != nil {
		t.rep.println(format, args...)
		return
	}
	if t.opt.Log != nil {
		fmt.Fprintf(t.opt.Log, format+"\n", args...)
	}
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
	if t.step, err = model.NewTrainStep(t.st.params, c.Batch, c.Loss); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	n := c.Batch * c.Model.InputSize()
	t.y, t.x0, t.xt = make([]float32, n), make([]float32, n), make([]float32, n)
	t.levels = make([]float64, t.step.Groups())
	if c.Loss.PenaltyAt == model.PenaltyAtInterp {
		t.z = make([]float32, n)
	}
	return nil
}

func (t *trainer) loop(ctx context.Context, res Result) (Result, error) {
	c := &t.cfg
	t.rep = newReporter(t.opt.Log, t.opt.Terminal, t.st.step, c.Steps, c.Run.LogEvery)
	defer t.rep.finish()
	if t.st.step == 0 {
		t.logf("training %s on %s (%d images %v), preset %s: %d parameters, batch %d, %d steps, BLAS %s",
			t.opt.Out, c.Dataset, t.ds.Len(), t.ds.Shape(), c.Preset, t.st.params.Count(), c.Batch, c.Steps, model.BLAS())
	}
	t.lastTime = time.Now()
	start, startStep := time.Now(), t.st.step
	grads := t.step.Grads()
	for t.st.step < c.Steps {
		if err := ctx.Err(); err != nil {
			return t.interrupt(res)
		}
		stats, err := t.compute()
		if err != nil {
			return res, fmt.Errorf("train: step %d: %w", t.st.step+1, err)
		}
		pgn, err := t.checkFinite(stats, grads)
		if err != nil {
			t.metrics.add(t.record(t.st.step+1, stats, pgn, start)) // the step that diverged
			t.metrics.flush()
			return res, err
		}
		if err := t.st.adam.Update(t.st.params, grads); err != nil {
			return res, fmt.Errorf("train: %w", err)
		}
		if name := nonFinite(t.st.params); name != "" {
			return res, fmt.Errorf("%w at step %d: parameter %s is not finite after the Adam update; %s",
				ErrDiverged, t.st.step+1, name, t.divergenceAdvice("a lower -lr"))
		}
		if err := t.st.ema.Update(t.st.params); err != nil {
			return res, fmt.Errorf("train: %w", err)
		}
		t.st.step++
		res.Step, res.Last = t.st.step, stats
		if err := t.metrics.add(t.record(t.st.step, stats, pgn, start)); err != nil {
			return res, err
		}
		t.checkHealth(t.st.step, stats.Loss, pgn)
		t.rep.step(t.st.step, stats)
		if t.opt.AfterStep != nil {
			t.opt.AfterStep(t.st.step, stats)
		}
		if c.Sample.Every > 0 && t.st.step%c.Sample.Every == 0 {
			t.preview() // optional: a failure is recorded, never a reason to stop
		}
		due := (c.Run.CkptEvery > 0 && t.st.step%c.Run.CkptEvery == 0) ||
			(c.Run.CkptInterval > 0 && time.Since(t.lastTime) >= time.Duration(c.Run.CkptInterval))
		if due && t.st.step < c.Steps {
			if err := t.save(); err != nil {
				return res, err
			}
			t.criticDiagnostics() // optional, after the checkpoint is safe
		}
	}
	if el := time.Since(start).Seconds(); el > 0 && t.st.step > startStep {
		res.StepsPerSec = float64(t.st.step-startStep) / el
	}
	if t.lastSaved != t.st.step {
		if err := t.save(); err != nil {
			return res, err
		}
		t.criticDiagnostics()
	}
	res.Checkpoint = t.lastCkpt
	t.rep.finish()
	t.logf("done: %d steps; last checkpoint %s", t.st.step, t.lastCkpt)
	if scores, err := ReadScores(t.opt.Out); err == nil && len(scores) > 0 {
		best := slices.MinFunc(scores, func(a, b SampleScore) int { return cmp.Compare(a.MMD2, b.MMD2) })
		t.logf("best sample score %.4g at step %d (samples/%s; noise %.4g): a checkpoint near it samples best",
			best.MMD2, best.Step, best.Grid, best.Noise)
	}
	return res, nil
}

// compute draws one step's levels, batches, noise and penalty points (in this order, from the run's random
// streams, so that a resumed run draws what an uninterrupted one would) and computes the loss and its gradient.
// With -groups G > 1, G levels are drawn first and the rows of group g of the noisy batch are noised at level g.
func (t *trainer) compute() (model.Stats, error) {
	c := &t.cfg
	for g := range t.levels {
		t.levels[g] = t.sched.SampleT(t.tdist, t.rng)
	}
	data.Batch(t.ds, t.st.sampler, t.y, c.Batch)
	data.Batch(t.ds, t.st.sampler, t.x0, c.Batch)
	rows := len(t.xt) / len(t.levels) // values per group
	for g, level := range t.levels {
		if err := t.sched.Noise(t.xt[g*rows:(g+1)*rows], t.x0[g*rows:(g+1)*rows], level, t.rng); err != nil {
			return model.Stats{}, err
		}
	}
	if rho := c.RefRatio; rho > 0 {
		// The reference batch: the clean images noised to rho t_g, group by group (fresh noise).
		for g, level := range t.levels {
			y := t.y[g*rows : (g+1)*rows]
			if err := t.sched.Noise(y, y, c.RefLevel(level), t.rng); err != nil {
				return model.Stats{}, err
			}
		}
	}
	if t.z != nil {
		t.interpolate()
	}
	switch {
	case len(t.levels) > 1:
		return t.step.RunLevels(t.xt, t.y, t.z, t.levels)
	case t.z != nil:
		return t.step.RunAt(t.xt, t.y, t.z, t.levels[0])
	}
	return t.step.Run(t.xt, t.y, t.levels[0])
}

// interpolate draws the penalty points z_i = u_i x_t^i + (1 - u_i) y^i, u_i ~ U[0, 1].
func (t *trainer) interpolate() {
	size := t.cfg.Model.InputSize()
	for i := 0; i < t.cfg.Batch; i++ {
		u := float32(t.rng.Float64())
		xt, y, z := t.xt[i*size:(i+1)*size], t.y[i*size:(i+1)*size], t.z[i*size:(i+1)*size]
		for j := range z {
			z[j] = u*xt[j] + (1-u)*y[j]
		}
	}
}

func (t *trainer) record(step int64, st model.Stats, pgn float64, start time.Time) Record {
	now := time.Now()
	r := Record{Step: step, Time: float64(now.UnixNano()) / 1e9, Elapsed: now.Sub(start).Seconds(), T: t.levels[0],
		Loss: st.Loss, MMD2: st.MMD2, L2: st.L2, GradPenalty: st.GradPenalty, GradNorm: st.GradNorm,
		ParamGradNorm: pgn, LR: t.cfg.Adam.LR}
	if len(t.levels) > 1 {
		r.Levels = slices.Clone(t.levels)
	}
	return r
}

// checkFinite stops a diverging run, naming the loss term or gradient tensor that went bad, clips the gradient to
// -grad-clip, and returns the parameter-gradient norm before clipping.
func (t *trainer) checkFinite(st model.Stats, grads *model.Params) (float64, error) {
	for _, term := range []struct {
		name string
		v    float64
	}{{"mmd2", st.MMD2}, {"l2 penalty", st.L2}, {"gradient penalty", st.GradPenalty},
		{"witness gradient norm", st.GradNorm}, {"loss", st.Loss}} {
		if math.IsNaN(term.v) || math.IsInf(term.v, 0) {
			return 0, fmt.Errorf("%w at step %d: the %s is %v (loss %v, mmd2 %v, l2 %v, gradient penalty %v); %s",
				ErrDiverged, t.st.step+1, term.name, term.v, st.Loss, st.MMD2, st.L2, st.GradPenalty,
				t.divergenceAdvice("a lower -lr or a higher -lambda-l2"))
		}
	}
	norm := model.ClipGradNorm(grads, t.cfg.GradClip)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		name := nonFinite(grads)
		if name == "" {
			name = "the parameters (its norm overflows)"
		}
		return 0, fmt.Errorf("%w at step %d: the gradient of %s is not finite (loss %v); %s",
			ErrDiverged, t.st.step+1, name, st.Loss, t.divergenceAdvice("a lower -lr"))
	}
	return norm, nil
}

// nonFinite returns the name of the first tensor of p holding a NaN or an infinity, or "".
func nonFinite(p *model.Params) string {
	for i, spec := range p.Specs() {
		switch v := p.Data(i).(type) {
		case []float32:
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return spec.Name
				}
			}
		case []float64:
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return spec.Name
				}
			}
		}
	}
	return ""
}

// save writes a checkpoint, prunes old ones, flushes the metrics and redraws the loss chart.
func (t *trainer) save() error {
	begin := time.Now()
	w, err := t.st.writer(&t.cfg)
	if err != nil {
		return err
	}
	path, err := t.run.Save(t.st.step, w)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	t.health.saved(t.st.step)
	if err := t.run.KeepAlso(t.cfg.Run.Keep, t.health.protect()...); err != nil { // never the newest good one
		return fmt.Errorf("train: %w", err)
	}
	t.lastCkpt, t.lastSaved, t.lastTime = path, t.st.step, time.Now()
	if err := t.metrics.flush(); err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	took := time.Since(begin)
	t.diagnostic("loss chart", t.writeChart)
	t.logf("step %d: saved %s (%.1f MB in %.2f s)", t.st.step, filepath.Base(path), float64(size)/1e6, took.Seconds())
	return nil
}

func (t *trainer) writeChart() error {
	if len(t.metrics.history) == 0 {
		return nil
	}
	png, err := renderLossChart(t.metrics.history, fmt.Sprintf("%s: %s, preset %s, batch %d", filepath.Base(t.opt.Out),
		t.cfg.Dataset, t.cfg.Preset, t.cfg.Batch))
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(t.opt.Out, LossChartName), png)
}

func (t *trainer) interrupt(res Result) (Result, error) {
	res.Interrupted = true
	if t.lastSaved != t.st.step {
		if err := t.save(); err != nil {
			return res, err
		}
	}
	res.Checkpoint = t.lastCkpt
	t.rep.finish()
	cmd := t.opt.ResumeCommand
	if cmd == "" {
		cmd = "the same command"
	}
	t.logf("interrupted at step %d; checkpoint %s; resume with: %s", t.st.step, t.lastCkpt, cmd)
	return res, nil
}
