package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/dmmd/dmmd/rundir"
)

// WarningsName is the run directory's log of optional diagnostics (sample grids, sample scores, the loss chart)
// that failed or were skipped, and why: one Warning per line. Such a failure never stops training.
const WarningsName = rundir.WarningsName

// Warning is one line of warnings.jsonl.
type Warning struct {
	Step  int64  `json:"step"`  // the training step at which it happened
	What  string `json:"what"`  // "sample grid", "sample score", "loss chart", "scores log"
	Error string `json:"error"` // why
}

// ReadWarnings reads a run's warnings.jsonl (nil if there is none).
func ReadWarnings(dir string) ([]Warning, error) {
	var out []Warning
	_, err := readLog(filepath.Join(dir, WarningsName), math.MaxInt64, func(line []byte) error {
		var w Warning
		if err := json.Unmarshal(line, &w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// diagnostics remembers which optional diagnostics have failed, so that each is printed once.
type diagnostics struct {
	warned map[string]bool
}

// diagnostic runs fn, an optional diagnostic. An error or a panic in it never stops training: it is recorded in
// warnings.jsonl and, the first time for this kind, printed with a note that training goes on.
func (t *trainer) diagnostic(what string, fn func() error) (ok bool) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn()
	}()
	if err != nil {
		t.warn(what, err)
	}
	return err == nil
}

// warn records a failed or skipped diagnostic in warnings.jsonl and prints it the first time for its kind.
func (t *trainer) warn(what string, err error) {
	if t.diag.warned == nil {
		t.diag.warned = map[string]bool{}
	}
	w := Warning{Step: t.st.step, What: what, Error: err.Error()}
	if e := appendLine(filepath.Join(t.opt.Out, WarningsName), w); e != nil {
		err = errors.Join(err, e)
	}
	if t.diag.warned[what] {
		return
	}
	t.diag.warned[what] = true
	t.logf("warning: step %d: %s: %v; training goes on (this and later %s warnings are recorded in %s)",
		t.st.step, what, err, what, WarningsName)
}
