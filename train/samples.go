package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

// ScoresName is the log of sample scores in the run's samples folder (rundir.SamplesDir): one SampleScore per line.
const ScoresName = rundir.ScoresName

// SampleScore is one line of samples/scores.jsonl: how close a training-time sample grid is to the data, as the
// unbiased pixel-space MMD^2 with a Gaussian kernel (median-heuristic width) between the grid's samples and a fixed
// random set of training images (sample.Scorer). Lower is better; N(0, I) noise scores Noise, real images about 0.
type SampleScore struct {
	Step       int64   `json:"step"`
	MMD2       float64 `json:"mmd2"`
	Noise      float64 `json:"noise_mmd2"`
	Sigma      float64 `json:"sigma"`
	Samples    int     `json:"samples"`
	References int     `json:"references"`
	Grid       string  `json:"grid"`
}

// ReadScores reads a run's samples/scores.jsonl (nil if the run has none).
func ReadScores(dir string) ([]SampleScore, error) {
	path := filepath.Join(dir, rundir.SamplesDir, ScoresName)
	var out []SampleScore
	_, err := readLog(path, math.MaxInt64, func(line []byte) error {
		var s SampleScore
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// previewOptions are the training-time grid's flow settings: the preview defaults for the run's reference ratio
// (its update is sample.UpdateFor it, as cmd/sample's default) on the run's own VP path, with m_P at that ratio.
func previewOptions(c *Config) sample.PreviewOptions {
	opt := sample.PreviewOptions{N: c.Sample.Particles, Seed: c.Seed}
	opt.Flow = sample.PreviewDefaultsFor(c.Model.InputSize(), c.RefRatio, c.Loss.Penalty == model.PenaltyZero)
	opt.Flow.Particles = c.Sample.Particles
	opt.Flow.Seed = c.Seed
	opt.Flow.Schedule, opt.Flow.TMin = c.Sched, c.Sched.TMin
	opt.Flow.RefRatio = c.RefRatio
	return opt
}

// preview writes a grid of samples from the EMA weights with cheap flow settings and, with Sample.Refs, scores it.
// Both are optional diagnostics: a failure is recorded and printed (once per kind), never a reason to stop.
func (t *trainer) preview() {
	var x []float32
	name := rundir.GridName(t.st.step)
	path := filepath.Join(t.opt.Out, rundir.SamplesDir, name)
	ok := t.diagnostic("sample grid", func() error {
		var err error
		x, err = t.grid(path)
		return err
	})
	if !ok {
		if t.critic != nil { // it may be in any state after a failure: build it afresh next time
			t.critic.Close()
			t.critic = nil
		}
		return
	}
	if t.cfg.Sample.Refs == 0 {
		t.logf("step %d: wrote %s", t.st.step, path)
		return
	}
	if t.scorer == nil {
		if t.scorerFailed {
			t.logf("step %d: wrote %s (no score: see %s)", t.st.step, path, WarningsName)
			return
		}
		t.diagnostic("sample score", func() error {
			sc, err := sample.NewScorer(t.ds, t.cfg.Sample.Refs)
			if err != nil {
				t.scorerFailed = true // a property of the data: no point in trying again
				return fmt.Errorf("no sample scores for this run: %w", err)
			}
			t.scorer = sc
			if sc.Note() != "" {
				t.logf("note: sample score: %s", sc.Note())
			}
			return nil
		})
		if t.scorer == nil {
			return
		}
	}
	t.diagnostic("sample score", func() error {
		m, err := t.scorer.Score(x)
		if err != nil {
			return err
		}
		rec := SampleScore{Step: t.st.step, MMD2: m, Noise: t.scorer.NoiseBaseline(), Sigma: t.scorer.Sigma(),
			Samples: len(x) / t.ds.Shape().Size(), References: t.scorer.References(), Grid: name}
		if err := appendLine(filepath.Join(t.opt.Out, rundir.SamplesDir, ScoresName), rec); err != nil {
			return err
		}
		t.logf("step %d: wrote %s; sample MMD^2 to the data %.4g (noise %.4g, lower is better)", t.st.step, path, m, rec.Noise)
		return nil
	})
}

// grid runs the preview flow and writes its grid to path.
func (t *trainer) grid(path string) ([]float32, error) {
	if t.critic == nil {
		var err error
		if t.critic, err = model.NewCritic(t.st.ema.Params, min(64, t.cfg.Sample.Particles)); err != nil {
			return nil, fmt.Errorf("train: sample grid: %w", err)
		}
	}
	x, err := sample.Preview(t.critic, t.ds, previewOptions(&t.cfg))
	if err != nil {
		return nil, fmt.Errorf("train: sample grid: %w", err)
	}
	if err := sample.WriteGrid(path, x, t.ds.Shape(), 2); err != nil {
		return nil, fmt.Errorf("train: sample grid: %w", err)
	}
	return x, nil
}

// appendLine appends v as one JSON line to path and syncs the file.
func appendLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("train: encoding %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}
