package train

import (
	"fmt"
	"io"
	"time"

	"github.com/dmmd/dmmd/internal/progress"
	"github.com/dmmd/dmmd/model"
)

// reporter shows training progress: a live bar on a terminal (internal/progress), plain lines every -log-every
// steps otherwise (CI logs).
type reporter struct {
	w       io.Writer
	bar     *progress.Bar // nil: plain lines
	every   int
	total   int64
	start   time.Time
	startAt int64 // step the reporter started at (the resumed step)
}

func newReporter(w io.Writer, terminal bool, startStep, total int64, every int) *reporter {
	r := &reporter{w: w, every: every, total: total, start: time.Now(), startAt: startStep}
	if terminal && w != nil {
		live := true
		r.bar = progress.New(w, total, progress.Options{Unit: "steps", Live: &live})
		r.bar.Set(startStep)
	}
	return r
}

// rate returns the steps per second in this process and the estimated time to the end.
func (r *reporter) rate(step int64) (float64, time.Duration) {
	el := time.Since(r.start).Seconds()
	done := step - r.startAt
	if el <= 0 || done <= 0 {
		return 0, 0
	}
	sps := float64(done) / el
	return sps, time.Duration(float64(r.total-step) / sps * float64(time.Second))
}

func (r *reporter) step(step int64, st model.Stats) {
	if r.w == nil {
		return
	}
	if r.bar != nil {
		r.bar.Describe(fmt.Sprintf("loss %.4g mmd2 %.3g pen %.3g", st.Loss, st.MMD2, st.GradPenalty))
		r.bar.Set(step)
		return
	}
	if step%int64(r.every) == 0 || step == r.total {
		sps, eta := r.rate(step)
		fmt.Fprintf(r.w, "step %d/%d  loss %.5g  mmd2 %.4g  l2 %.4g  pen %.4g  |grad| %.4g  %.3g steps/s  ETA %s\n",
			step, r.total, st.Loss, st.MMD2, st.L2, st.GradPenalty, st.GradNorm, sps, eta.Round(time.Second))
	}
}

// println prints a message without tearing the bar.
func (r *reporter) println(format string, args ...any) {
	if r.w == nil {
		return
	}
	if r.bar != nil {
		r.bar.Printf(format, args...)
		return
	}
	fmt.Fprintf(r.w, format+"\n", args...)
}

// finish ends the bar's line; calling it again does nothing.
func (r *reporter) finish() { r.bar.Finish() }
