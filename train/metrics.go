package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/internal/atomicfile"
	"github.com/dmmd/dmmd/rundir"
)

// MetricsName is the per-step log in the run directory: one JSON object per line.
const MetricsName = rundir.MetricsName

// Record is one line of metrics.jsonl.
type Record struct {
	Step          int64   `json:"step"`
	Time          float64 `json:"time"`    // seconds since the Unix epoch when the step finished
	Elapsed       float64 `json:"elapsed"` // training seconds in this process
	T             float64 `json:"t"`       // the level of this step
	Loss          float64 `json:"loss"`
	MMD2          float64 `json:"mmd2"`
	L2            float64 `json:"l2"`
	GradPenalty   float64 `json:"grad_penalty"`
	GradNorm      float64 `json:"grad_norm"`       // mean ||grad_z f_t|| at the noisy points
	ParamGradNorm float64 `json:"param_grad_norm"` // ||grad_theta loss||
	LR            float64 `json:"lr"`
	// Levels are the step's levels, one per group, with -groups G > 1 (T is the first); nil otherwise.
	Levels []float64 `json:"levels,omitempty"`
}

// metricsLog appends records to metrics.jsonl and keeps them for the loss chart.
type metricsLog struct {
	path    string
	f       *os.File
	w       *bufio.Writer
	history []Record
}

// openMetrics opens the run's metrics log for appending after step `after`: lines of later steps (written after
// the checkpoint being resumed, before a crash) are dropped, so the log matches the resumed run.
func openMetrics(dir string, after int64) (*metricsLog, error) {
	path := filepath.Join(dir, MetricsName)
	m := &metricsLog{path: path}
	err := trimLog(path, after, func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		m.history = append(m.history, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: opening %s: %w", path, err)
	}
	m.w = bufio.NewWriterSize(m.f, 64<<10)
	return m, nil
}

// trimLog prepares a JSON-lines log with a "step" field for appending after step `after`: it drops the lines of
// later steps and a torn last line (a crash), and empties the log when after is 0 (a fresh run). keep, if not nil,
// sees every kept line in order.
func trimLog(path string, after int64, keep func(line []byte) error) error {
	if after == 0 {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return writeFileAtomic(path, nil)
	}
	changed, err := readLog(path, after, func(line []byte) error {
		if keep != nil {
			return keep(line)
		}
		return nil
	})
	if err != nil || changed == nil {
		return err
	}
	return writeFileAtomic(path, changed)
}

// readLog reads a JSON-lines log with a "step" field, calling keep for each line of a step <= after, in order. A
// missing log is empty; a torn last line (a crash, or a writer still appending) is skipped. It returns the kept
// lines when they differ from the file (lines dropped), and nil otherwise. It never writes.
func readLog(path string, after int64, keep func(line []byte) error) ([]byte, error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("train: reading %s: %w", path, err)
	}
	var kept bytes.Buffer
	lines := bytes.Split(old, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r struct {
			Step *int64 `json:"step"`
		}
		err := json.Unmarshal(line, &r)
		if err == nil && r.Step == nil {
			err = errors.New(`no "step"`)
		}
		if err != nil {
			if i == len(lines)-1 {
				break // a torn last line
			}
			return nil, fmt.Errorf("train: %s line %d: %w", path, i+1, err)
		}
		if *r.Step > after {
			continue
		}
		if err := keep(line); err != nil {
			return nil, fmt.Errorf("train: %s line %d: %w", path, i+1, err)
		}
		kept.Write(line)
		kept.WriteByte('\n')
	}
	if kept.Len() == len(old) {
		return nil, nil
	}
	if kept.Len() == 0 {
		return []byte{}, nil
	}
	return kept.Bytes(), nil
}

func (m *metricsLog) add(r Record) error {
	m.history = append(m.history, r)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("train: encoding metrics: %w", err)
	}
	b = append(b, '\n')
	if _, err := m.w.Write(b); err != nil {
		return fmt.Errorf("train: writing %s: %w", m.path, err)
	}
	return nil
}

// flush writes buffered records to the file and syncs it.
func (m *metricsLog) flush() error {
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("train: writing %s: %w", m.path, err)
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("train: syncing %s: %w", m.path, err)
	}
	return nil
}

func (m *metricsLog) close() error {
	err := m.flush()
	if e := m.f.Close(); err == nil && e != nil {
		err = fmt.Errorf("train: closing %s: %w", m.path, e)
	}
	return err
}

// ReadMetrics reads a run's metrics.jsonl (a torn last line, as a running trainer may leave, is skipped).
func ReadMetrics(dir string) ([]Record, error) {
	path := filepath.Join(dir, MetricsName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var out []Record
	_, err := readLog(path, math.MaxInt64, func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// writeFileAtomic replaces path with b crash-safely (atomicfile.Write).
func writeFileAtomic(path string, b []byte) error {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}
