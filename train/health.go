package train

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dmmd/dmmd/checkpoints"
)

// Normal range of a training step, for telling good checkpoints from suspect ones: a step is normal when its loss
// and its parameter-gradient norm are finite and within healthFactor times the median of the last healthWindow
// normal steps (each median taken as at least 1, so values near zero never make a tight bound). A finite blow-up
// (measured: parameter-gradient norms of 1.4e7 against a usual 5-100, a loss of 1e6, weights of 1e6 after one step
// at -lr 1e6) is far outside; the largest norm seen in a healthy MNIST run, 2,800, is inside.
const (
	healthFactor = 1000
	healthWindow = 200
)

// health follows whether training steps are normal and which checkpoints are good. A checkpoint is good when the
// step after it, which starts from exactly its weights, is normal; until then it is suspect (the step that wrote
// it may have been normal while its update already ruined the weights, as with -lr 1e6). The newest good
// checkpoint is kept by Keep however many suspect ones are newer, and a divergence report names it.
type health struct {
	loss, pgn []float64 // |loss| and parameter-gradient norms of the last normal steps
	ckpts     []int64   // steps with a checkpoint on disk (this process's saves and the run's files at start)
	good      int64     // newest good checkpoint; -1 if none
	abnormal  bool      // the last step was not normal (for printing once per episode)
}

func newHealth() *health { return &health{good: -1} }

// rebuild replays a run's metrics (records up to the resumed step, in order) against the checkpoints in its
// directory, so that a resumed run knows which of them are good.
func (h *health) rebuild(history []Record, run *checkpoints.Run) {
	if cs, err := run.Checkpoints(); err == nil {
		for _, c := range cs {
			h.ckpts = append(h.ckpts, c.Step)
		}
	}
	for _, r := range history {
		h.observe(r.Step, r.Loss, r.ParamGradNorm)
	}
}

// median returns the median of v (the upper middle value), at least 1.
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return math.Max(1, s[len(s)/2])
}

// normal reports whether a step with this loss and parameter-gradient norm is in the normal range, and if not, why.
func (h *health) normal(loss, pgn float64) (bool, string) {
	if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(pgn) || math.IsInf(pgn, 0) {
		return false, "not finite"
	}
	if len(h.pgn) == 0 {
		return true, ""
	}
	if m := median(h.pgn); pgn > healthFactor*m {
		return false, fmt.Sprintf("parameter-gradient norm %.3g, over %d times its recent median %.3g", pgn, healthFactor, m)
	}
	if m := median(h.loss); math.Abs(loss) > healthFactor*m {
		return false, fmt.Sprintf("loss %.3g, over %d times the recent median magnitude %.3g", loss, healthFactor, m)
	}
	return true, ""
}

// observe records a completed step and returns why it is not normal ("" if it is).
func (h *health) observe(step int64, loss, pgn float64) string {
	ok, why := h.normal(loss, pgn)
	h.abnormal = !ok
	if !ok {
		return why
	}
	add := func(v []float64, x float64) []float64 {
		if len(v) == healthWindow {
			v = v[1:]
		}
		return append(v, x)
	}
	h.loss, h.pgn = add(h.loss, math.Abs(loss)), add(h.pgn, pgn)
	if slices.Contains(h.ckpts, step-1) {
		h.good = step - 1
	}
	return ""
}

// saved records a checkpoint written at step.
func (h *health) saved(step int64) {
	if !slices.Contains(h.ckpts, step) {
		h.ckpts = append(h.ckpts, step)
	}
}

// protect lists the checkpoints Keep must not delete beyond the newest n: the newest good one.
func (h *health) protect() []int64 {
	if h.good < 0 {
		return nil
	}
	return []int64{h.good}
}

// divergenceAdvice says which checkpoint to resume from after a divergence and how, or that none is known good.
func (t *trainer) divergenceAdvice(fix string) string {
	h := t.health
	var suspect []string
	if cs, err := t.run.Checkpoints(); err == nil {
		for _, c := range cs {
			if c.Step > h.good {
				suspect = append(suspect, filepath.Base(c.Path))
			}
		}
	}
	note := ""
	if len(suspect) > 0 {
		note = fmt.Sprintf(" (%s: suspect, the step after %s not in the normal range or not run; kept)",
			strings.Join(suspect, ", "), map[bool]string{true: "it was", false: "each was"}[len(suspect) == 1])
	}
	if h.good < 0 {
		return fmt.Sprintf("no checkpoint of this run is known good%s; start again with another -out and %s", note, fix)
	}
	cmd := t.opt.ResumeCommand
	if cmd == "" {
		cmd = "train -out " + t.opt.Out
	}
	return fmt.Sprintf("the newest checkpoint whose next step had its loss and parameter-gradient norm in their "+
		"normal range is %s%s; resume from it with: %s -resume-from %d, and %s",
		filepath.Base(t.run.CheckpointPath(h.good)), note, cmd, h.good, fix)
}

// checkHealth records a completed step and, at the first abnormal step of an episode, says so. When the step
// confirms the checkpoint before it, the older checkpoints Keep had to spare are pruned now.
func (t *trainer) checkHealth(step int64, loss, pgn float64) {
	was, good := t.health.abnormal, t.health.good
	if why := t.health.observe(step, loss, pgn); why != "" && !was {
		t.logf("warning: step %d: %s; checkpoints from here are suspect until a step is normal again", step, why)
	}
	if t.health.good != good && good >= 0 {
		if err := t.run.KeepAlso(t.cfg.Run.Keep, t.health.protect()...); err != nil {
			t.logf("warning: pruning checkpoints: %v", err)
		}
	}
}
