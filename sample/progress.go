package sample

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar that is silent (and free) when the writer is nil.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, total int, desc string) progress {
	if w == nil || total <= 0 {
		return progress{}
	}
	return progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)}
}

func (p progress) add(n int) {
	if p.bar != nil && n > 0 {
		_ = p.bar.Add(n)
	}
}

func (p progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
