package train

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

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

// writeChart redraws the loss chart from the metrics so far.
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

// interrupt ends a cancelled run: it writes a checkpoint of the last completed step and prints how to resume.
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
