// Package progress reports how far a long job has got: progressbar's live bar when the output is a terminal, and
// a plain line every few seconds otherwise, so that log files (CI, Slurm, nohup) stay short and readable.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Options describe a bar.
type Options struct {
	Desc  string        // what is counted, e.g. "sample: mean embeddings"
	Unit  string        // unit of the count, e.g. "img"; ignored with Bytes
	Bytes bool          // count bytes (shown in MB)
	Every time.Duration // plain mode: at most one line per Every (default 10 s)
	Live  *bool         // force (true) or forbid (false) the live bar; nil: live on a terminal only
}

// Bar is a progress report. A nil *Bar is valid and silent, so callers need no checks.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	o     Options
	live  *progressbar.ProgressBar
	total int64
	n     int64
	start time.Time
	last  time.Time
	done  bool
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a bar counting to total on w, or nil (silent) when w is nil or total is not positive.
func New(w io.Writer, total int64, o Options) *Bar {
	if w == nil || total <= 0 {
		return nil
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	b := &Bar{w: w, o: o, total: total, start: time.Now()}
	b.last = b.start
	live := IsTerminal(w)
	if o.Live != nil {
		live = *o.Live
	}
	if live {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(o.Desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200 * time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
		}
		if o.Bytes {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(),
				progressbar.OptionSetItsString(o.Unit))
		}
		b.live = progressbar.NewOptions64(total, opts...)
	}
	return b
}

// Add counts n more units. It is safe for concurrent use.
func (b *Bar) Add(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(n)
}

// add counts n > 0 more units; b.mu is held.
func (b *Bar) add(n int64) {
	if b.done {
		return
	}
	b.n += n
	if b.live != nil {
		_ = b.live.Add64(n)
		return
	}
	if now := time.Now(); now.Sub(b.last) >= b.o.Every && b.n < b.total {
		b.last = now
		b.line(now, false)
	}
}

// Set moves the count to n (a resumed job starts at its done count; a job that reports its position rather than
// increments). It is safe for concurrent use.
func (b *Bar) Set(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case n > b.n:
		b.add(n - b.n)
	case n < b.n && !b.done:
		b.n = n
		if b.live != nil {
			_ = b.live.Set64(n)
		}
	}
}

// Describe replaces the live bar's description (the plain lines keep Options.Desc).
func (b *Bar) Describe(desc string) {
	if b == nil || b.live == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.live.Describe(desc)
	}
}

// Printf prints a message on its own line on the bar's writer without tearing the live bar (which redraws on the
// next update).
func (b *Bar) Printf(format string, args ...any) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.live != nil && !b.done {
		_ = b.live.Clear()
	}
	fmt.Fprintf(b.w, format+"\n", args...)
}

// Write counts len(p) bytes, so a Bar can sit in an io.MultiWriter.
func (b *Bar) Write(p []byte) (int, error) {
	b.Add(int64(len(p)))
	return len(p), nil
}

// Finish ends the report: the live bar's line, or a last plain line with the count and the time taken.
// Calling it again does nothing.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	if b.live != nil {
		if b.n >= b.total {
			_ = b.live.Finish()
		} else {
			_ = b.live.Exit()
			_, _ = io.WriteString(b.w, "\n")
		}
		return
	}
	b.line(time.Now(), true)
}

func (b *Bar) line(now time.Time, final bool) {
	el := now.Sub(b.start)
	count := fmt.Sprintf("%d/%d %s", b.n, b.total, b.o.Unit)
	if b.o.Bytes {
		count = fmt.Sprintf("%.1f/%.1f MB", float64(b.n)/1e6, float64(b.total)/1e6)
	}
	if final {
		fmt.Fprintf(b.w, "%s: %s in %s\n", b.o.Desc, count, el.Round(time.Second))
		return
	}
	pct := 100 * float64(b.n) / float64(b.total)
	left := time.Duration(float64(el) * float64(b.total-b.n) / float64(b.n))
	fmt.Fprintf(b.w, "%s: %s (%.0f%%, %s left)\n", b.o.Desc, count, pct, left.Round(time.Second))
}
