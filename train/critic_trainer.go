package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
)

// criticDiagLog is the trainer's state for the critic diagnostics written at every checkpoint.
type criticDiagLog struct {
	history []CriticDiag // diagnostics.jsonl so far, for the chart
	ds      data.Dataset // the images (OpenHeldOut's, or the training set's), opened at the first checkpoint
	heldOut bool
	failed  bool // the data allow no diagnostics (recorded in warnings.jsonl)
}

// OpenHeldOut opens the test split of a run's dataset with the run's preprocessing (c.Dataset at c.Data with
// c.MNISTPad32, c.CelebACrop, c.FolderSize and c.DataCache; not c.DataLimit, which limits the training images), for
// DiagnoseCritic. It fails when the dataset has no test split (folder), when the split's files are not at c.Data
// (the t10k files for mnist, test_batch.bin for cifar10, the partition file for celeba64), or when its images do
// not have the run's model's shape.
func OpenHeldOut(c *Config) (data.Dataset, error) {
	if c.Dataset == datasets.Folder {
		return nil, errors.New("train: the folder dataset has no test split")
	}
	ds, err := datasets.Open(datasets.Options{Name: c.Dataset, Path: c.Data, Split: "test", CacheDir: c.DataCache,
		Size: c.FolderSize, Crop: c.CelebACrop, Pad32: c.MNISTPad32})
	if err != nil {
		return nil, fmt.Errorf("train: no test split: %w", err)
	}
	if m := c.Model; m.ImageSize > 0 {
		if s := ds.Shape(); s.C != m.Channels || s.H != m.ImageSize || s.W != m.ImageSize {
			return nil, fmt.Errorf("train: the test split's images are %v, the run's model takes %dx%dx%d", s,
				m.Channels, m.ImageSize, m.ImageSize)
		}
	}
	return ds, nil
}

// openCriticDiag prepares diagnostics.jsonl for appending after the step the run continues from (later lines,
// written before a crash, are dropped, as in metrics.jsonl) and keeps its records for the chart.
func (t *trainer) openCriticDiag() {
	t.cdiag.history = nil
	err := trimLog(filepath.Join(t.opt.Out, DiagnosticsName), t.st.step, func(line []byte) error {
		var d CriticDiag
		if err := json.Unmarshal(line, &d); err != nil {
			return err
		}
		t.cdiag.history = append(t.cdiag.history, d)
		return nil
	})
	if err != nil {
		t.warn("critic diagnostics", fmt.Errorf("%w (left as it is; new diagnostics are appended)", err))
	}
}

// criticDiagnostics runs DiagnoseCritic on the EMA weights after a checkpoint (-diag-n images per set, the
// default levels and seed, so every checkpoint and cmd/diagnose see the same images and noise), appends the
// result to diagnostics.jsonl and redraws diagnostics.png. Both are optional diagnostics: a failure is recorded
// in warnings.jsonl and printed once, never a reason to stop. It is not called for the checkpoint written on an
// interrupt, so that Ctrl-C returns promptly (cmd/diagnose describes that checkpoint).
func (t *trainer) criticDiagnostics() {
	if t.cfg.Run.DiagN == 0 || t.cdiag.failed {
		return
	}
	ok := t.diagnostic("critic diagnostics", func() error {
		begin := time.Now()
		ds, err := t.diagData()
		if err != nil {
			return err
		}
		n := min(t.cfg.Run.DiagN, ds.Len()/2)
		if n < 2 {
			t.cdiag.failed = true
			return fmt.Errorf("%d images: the critic diagnostics need at least 4 (two sets of 2 or more)", ds.Len())
		}
		d, err := DiagnoseCritic(t.st.ema.Params, ds, t.sched, DiagOptions{N: n, RefLevel: t.cfg.RefLevelFunc()})
		if err != nil {
			return err
		}
		d.Step, d.HeldOut = t.st.step, t.cdiag.heldOut
		if err := appendLine(filepath.Join(t.opt.Out, DiagnosticsName), d); err != nil {
			return err
		}
		t.cdiag.history = append(t.cdiag.history, *d)
		lo, hi := d.Levels[0], d.Levels[len(d.Levels)-1]
		ref := "clean data"
		if t.cfg.RefRatio > 0 {
			ref = fmt.Sprintf("the data at %g t", t.cfg.RefRatio)
		}
		t.logf("step %d: critic diagnostics (%s, %.1f s): participation ratio on %s %.3g at t = %g, %.3g at "+
			"t = %g; witness std %.3g, %.3g; gradient cosine %.3g, %.3g", t.st.step, DiagnosticsName,
			time.Since(begin).Seconds(), ref, lo.PRRef, lo.T, hi.PRRef, hi.T, lo.WitnessRefStd, hi.WitnessRefStd,
			lo.GradCos, hi.GradCos)
		return nil
	})
	if ok {
		t.diagnostic("diagnostics chart", t.writeDiagChart)
	}
}

// diagData opens the diagnostics' images once: the test split when the dataset has one (OpenHeldOut), else the
// training images (not held out), and says which.
func (t *trainer) diagData() (data.Dataset, error) {
	if t.cdiag.ds != nil {
		return t.cdiag.ds, nil
	}
	var why string
	if t.opt.Dataset != nil {
		why = "the images were given to the trainer"
	} else if ds, err := OpenHeldOut(&t.cfg); err != nil {
		why = err.Error()
	} else {
		t.cdiag.ds, t.cdiag.heldOut = ds, true
		t.logf("note: critic diagnostics on %d held-out images of the %s test split (%d of them per set)", ds.Len(),
			t.cfg.Dataset, min(t.cfg.Run.DiagN, ds.Len()/2))
		return ds, nil
	}
	t.cdiag.ds = t.ds
	t.logf("note: critic diagnostics on training images chosen with seed 0, not held out (%s)", why)
	return t.ds, nil
}

func (t *trainer) writeDiagChart() error {
	if len(t.cdiag.history) == 0 {
		return nil
	}
	png, err := renderDiagChart(t.cdiag.history, fmt.Sprintf("%s: critic diagnostics, %s, preset %s, n %d%s",
		filepath.Base(t.opt.Out), t.cfg.Dataset, t.cfg.Preset, t.cdiag.history[len(t.cdiag.history)-1].N,
		map[bool]string{true: " held-out", false: " training images"}[t.cdiag.heldOut]))
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(t.opt.Out, DiagChartName), png)
}
