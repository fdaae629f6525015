package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
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
	lock    io.Closer // the run directory's lock (lockRunDir), held until Run returns
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
	eps       []float32 // per-image noise of the paired estimator (-mmd paired)
	z         []float32 // penalty points (PenaltyAt interp)
	levels    []float64 // this step's levels, one per group (-groups)
	weights   []float64 // their loss weights (-level-weight; nil when off)
	weightAt  func(t float64) float64
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
	defer t.lock.Close()
	defer t.metrics.close()
	defer func() {
		if t.critic != nil {
			t.critic.Close()
		}
		t.step.Close()
	}()
	return t.loop(ctx, res)
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
