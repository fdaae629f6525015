package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/sample"
)

// samplesDir holds the sample grids written during training.
const samplesDir = "samples"

// ScoresName is the log of sample scores in the run's samples folder: one SampleScore per line.
const ScoresName = "scores.jsonl"

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
	path := filepath.Join(dir, samplesDir, ScoresName)
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

// previewOptions are the training-time grid's flow settings: the preview defaults on the run's own VP path.
func previewOptions(c *Config) sample.PreviewOptions {
	opt := sample.PreviewOptions{N: c.Sample.Particles, Seed: c.Seed}
	opt.Flow = sample.PreviewDefaults(c.Model.InputSize())
	opt.Flow.Particles = c.Sample.Particles
	opt.Flow.Seed = c.Seed
	opt.Flow.Schedule, opt.Flow.TMin = c.Sched, c.Sched.TMin // as cmd/sample does
	return opt
}

func gridName(step int64) string { return fmt.Sprintf("step-%09d.png", step) }

// preview writes a grid of samples from the EMA weights with cheap flow settings and, with Sample.Refs, scores it.
func (t *trainer) preview() error {
	if t.critic == nil {
		var err error
		if t.critic, err = model.NewCritic(t.st.ema.Params, min(64, t.cfg.Sample.Particles)); err != nil {
			return fmt.Errorf("train: sample grid: %w", err)
		}
	}
	dir := filepath.Join(t.opt.Out, samplesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	name := gridName(t.st.step)
	path := filepath.Join(dir, name)
	x, err := sample.Preview(t.critic, t.ds, previewOptions(&t.cfg))
	if err != nil {
		return fmt.Errorf("train: sample grid: %w", err)
	}
	if err := sample.WriteGrid(path, x, t.ds.Shape(), 2); err != nil {
		return fmt.Errorf("train: sample grid: %w", err)
	}
	if t.cfg.Sample.Refs == 0 {
		t.logf("step %d: wrote %s", t.st.step, path)
		return nil
	}
	if t.scorer == nil {
		if t.scorer, err = sample.NewScorer(t.ds, t.cfg.Sample.Refs); err != nil {
			return fmt.Errorf("train: sample score: %w", err)
		}
	}
	m, err := t.scorer.Score(x)
	if err != nil {
		return fmt.Errorf("train: sample score: %w", err)
	}
	rec := SampleScore{Step: t.st.step, MMD2: m, Noise: t.scorer.NoiseBaseline(), Sigma: t.scorer.Sigma(),
		Samples: len(x) / t.ds.Shape().Size(), References: t.scorer.References(), Grid: name}
	if err := appendLine(filepath.Join(dir, ScoresName), rec); err != nil {
		return err
	}
	t.logf("step %d: wrote %s; sample MMD^2 to the data %.4g (noise %.4g, lower is better)", t.st.step, path, m, rec.Noise)
	return nil
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
