package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
)

// state is everything a run needs to continue exactly.
type state struct {
	step    int64
	params  *model.Params
	ema     *model.EMA
	adam    *model.Adam
	pcg     *rand.PCG
	sampler *data.Sampler
}

// writer serialises the state into a safetensors writer.
func (s *state) writer(cfg *Config) (*checkpoints.Writer, error) {
	w := checkpoints.NewWriter()
	for i, set := range s.sets() {
		rundir.AddWeights(w, rundir.AllWeights[i], set)
	}
	w.AddI64(rundir.TensorStep, []int{1}, []int64{s.step})
	w.AddI64(rundir.TensorAdamStep, []int{1}, []int64{s.adam.Step})
	w.AddI64(rundir.TensorEMAUpdates, []int{1}, []int64{s.ema.Updates})
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("train: saving the random state: %w", err)
	}
	w.AddBytes(rundir.TensorRNG, rng)
	smp, err := s.sampler.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("train: saving the data sampler: %w", err)
	}
	w.AddBytes(rundir.TensorSampler, smp)
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("train: encoding the configuration: %w", err)
	}
	w.SetMeta(rundir.MetaTrainConfig, string(js))
	return w, w.Err()
}

// restore fills s (already allocated for cfg.Model) from a verified checkpoint file.
func (s *state) restore(f *checkpoints.File, cfg *Config) error {
	if err := f.CheckShapes(rundir.ExpectedShapes(cfg.Model)); err != nil {
		return fmt.Errorf("train: %s does not match the run's model: %w", f.Path(), err)
	}
	for i, set := range s.sets() {
		if err := rundir.ReadWeights(f, rundir.AllWeights[i], cfg.Model.DType, set); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	scalar := func(name string) (int64, error) {
		v, _, err := f.I64(name)
		if err != nil {
			return 0, fmt.Errorf("train: %s: %w", f.Path(), err)
		}
		if v[0] < 0 {
			return 0, fmt.Errorf("train: %s: %s is negative (%d)", f.Path(), name, v[0])
		}
		return v[0], nil
	}
	var err error
	if s.step, err = scalar(rundir.TensorStep); err != nil {
		return err
	}
	if s.adam.Step, err = scalar(rundir.TensorAdamStep); err != nil {
		return err
	}
	if s.ema.Updates, err = scalar(rundir.TensorEMAUpdates); err != nil {
		return err
	}
	rng, _, err := f.U8(rundir.TensorRNG)
	if err != nil {
		return fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	if err := s.pcg.UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("train: %s: random state: %w", f.Path(), err)
	}
	smp, _, err := f.U8(rundir.TensorSampler)
	if err != nil {
		return fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	if err := s.sampler.UnmarshalBinary(smp); err != nil {
		return fmt.Errorf("train: %s: data sampler state: %w", f.Path(), err)
	}
	return nil
}

// sets returns the state's parameter sets in the order of rundir.AllWeights.
func (s *state) sets() []*model.Params {
	return []*model.Params{s.params, s.ema.Params, s.adam.M, s.adam.V}
}

// ConfigFromCheckpoint reads the full training configuration recorded in a checkpoint file (a reader that needs
// only the data, the model and the noise path uses rundir.ReadTrainConfig).
func ConfigFromCheckpoint(f *checkpoints.File) (*Config, error) {
	var c Config
	if err := rundir.DecodeTrainConfig(f, &c); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return &c, nil
}

// LoadEMA returns the EMA (sampling) weights of a checkpoint, checked against its recorded model configuration,
// and the full training configuration (rundir.LoadEMA returns what a reader needs of it).
func LoadEMA(f *checkpoints.File) (*model.Params, *Config, error) { return loadWeights(f, rundir.EMA) }

// LoadTrained returns the trained (optimiser's, not averaged) weights of a checkpoint, checked like LoadEMA.
func LoadTrained(f *checkpoints.File) (*model.Params, *Config, error) {
	return loadWeights(f, rundir.Trained)
}

func loadWeights(f *checkpoints.File, set rundir.Weights) (*model.Params, *Config, error) {
	cfg, err := ConfigFromCheckpoint(f)
	if err != nil {
		return nil, nil, err
	}
	p, err := rundir.LoadWeights(f, set, cfg.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	return p, cfg, nil
}
