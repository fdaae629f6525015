package train

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/dmmd/dmmd/model"
)

// reporter shows training progress: a live bar on a terminal, plain lines otherwise (CI logs).
type reporter struct {
	w        io.Writer
	bar      *progressbar.ProgressBar
	every    int
	total    int64
	start    time.Time
	startAt  int64 // step the reporter started at (the resumed step)
	lastLine time.Time
}

func newReporter(w io.Writer, terminal bool, startStep, total int64, every int) *reporter {
	r := &reporter{w: w, every: every, total: total, start: time.Now(), startAt: startStep}
	if terminal && w != nil {
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(20),
			progressbar.OptionFullWidth(),
		)
		r.bar.Set64(startStep)
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
	sps, eta := r.rate(step)
	if r.bar != nil {
		r.bar.Describe(fmt.Sprintf("loss %.4g mmd2 %.3g pen %.3g", st.Loss, st.MMD2, st.GradPenalty))
		r.bar.Set64(step)
		return
	}
	if step%int64(r.every) == 0 || step == r.total {
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
		r.bar.Clear()
	}
	fmt.Fprintf(r.w, format+"\n", args...)
}

// finish ends the bar's line; calling it again does nothing.
func (r *reporter) finish() {
	if r.bar != nil {
		r.bar.Finish()
		fmt.Fprintln(r.w)
		r.bar = nil
	}
}
