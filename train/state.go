package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/model"
)

// Tensor names in a checkpoint. Every parameter appears four times, prefixed: the trained weights, their EMA
// (the sampling weights) and Adam's two moments. In Python:
//
//	sd = safetensors.torch.load_file("ckpt-000010000.safetensors")
//	ema = {k[len("ema."):]: v for k, v in sd.items() if k.startswith("ema.")}
const (
	prefixParams = "params."
	prefixEMA    = "ema."
	prefixAdamM  = "adam_m."
	prefixAdamV  = "adam_v."

	nameStep       = "state.step"        // I64 [1]: completed training steps
	nameAdamStep   = "state.adam_step"   // I64 [1]: Adam updates applied
	nameEMAUpdates = "state.ema_updates" // I64 [1]: EMA updates applied
	nameRNG        = "state.rng"         // U8: the PCG state of the level and noise draws
	nameSampler    = "state.sampler"     // U8: the data sampler's state

	metaConfig = "dmmd.train_config" // the run's Config as JSON
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
	for _, set := range []struct {
		prefix string
		p      *model.Params
	}{{prefixParams, s.params}, {prefixEMA, s.ema.Params}, {prefixAdamM, s.adam.M}, {prefixAdamV, s.adam.V}} {
		for i, spec := range set.p.Specs() {
			switch v := set.p.Data(i).(type) {
			case []float32:
				w.AddF32(set.prefix+spec.Name, spec.Shape, v)
			case []float64:
				w.AddF64(set.prefix+spec.Name, spec.Shape, v)
			}
		}
	}
	w.AddI64(nameStep, []int{1}, []int64{s.step})
	w.AddI64(nameAdamStep, []int{1}, []int64{s.adam.Step})
	w.AddI64(nameEMAUpdates, []int{1}, []int64{s.ema.Updates})
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("train: saving the random state: %w", err)
	}
	w.AddBytes(nameRNG, rng)
	smp, err := s.sampler.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("train: saving the data sampler: %w", err)
	}
	w.AddBytes(nameSampler, smp)
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("train: encoding the configuration: %w", err)
	}
	w.SetMeta(metaConfig, string(js))
	return w, w.Err()
}

// expectedShapes lists every tensor a checkpoint of this model must hold, with its shape.
func expectedShapes(m model.Config) map[string][]int {
	want := map[string][]int{
		nameStep: {1}, nameAdamStep: {1}, nameEMAUpdates: {1}, nameRNG: nil, nameSampler: nil,
	}
	for _, s := range m.Specs() {
		for _, p := range []string{prefixParams, prefixEMA, prefixAdamM, prefixAdamV} {
			want[p+s.Name] = s.Shape
		}
	}
	return want
}

// restore fills s (already allocated for cfg.Model) from a verified checkpoint file.
func (s *state) restore(f *checkpoints.File, cfg *Config) error {
	if err := f.CheckShapes(expectedShapes(cfg.Model)); err != nil {
		return fmt.Errorf("train: %s does not match the run's model: %w", f.Path(), err)
	}
	for _, set := range []struct {
		prefix string
		p      *model.Params
	}{{prefixParams, s.params}, {prefixEMA, s.ema.Params}, {prefixAdamM, s.adam.M}, {prefixAdamV, s.adam.V}} {
		if err := readParams(f, set.prefix, cfg.Model.DType, set.p); err != nil {
			return err
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
	if s.step, err = scalar(nameStep); err != nil {
		return err
	}
	if s.adam.Step, err = scalar(nameAdamStep); err != nil {
		return err
	}
	if s.ema.Updates, err = scalar(nameEMAUpdates); err != nil {
		return err
	}
	rng, _, err := f.U8(nameRNG)
	if err != nil {
		return fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	if err := s.pcg.UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("train: %s: random state: %w", f.Path(), err)
	}
	smp, _, err := f.U8(nameSampler)
	if err != nil {
		return fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	if err := s.sampler.UnmarshalBinary(smp); err != nil {
		return fmt.Errorf("train: %s: data sampler state: %w", f.Path(), err)
	}
	return nil
}

// ConfigFromCheckpoint reads the training configuration recorded in a checkpoint file (used by the sampler when
// it is given a single file).
func ConfigFromCheckpoint(f *checkpoints.File) (*Config, error) {
	js, ok := f.Meta(metaConfig)
	if !ok {
		return nil, fmt.Errorf("train: %s has no %s metadata (not a dmmd training checkpoint?)", f.Path(), metaConfig)
	}
	var c Config
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return nil, fmt.Errorf("train: %s: decoding %s: %w", f.Path(), metaConfig, err)
	}
	return &c, nil
}

// LoadEMA returns the EMA (sampling) weights of a checkpoint, checked against its recorded model configuration.
func LoadEMA(f *checkpoints.File) (*model.Params, *Config, error) { return loadWeights(f, prefixEMA) }

// LoadTrained returns the trained (optimiser's, not averaged) weights of a checkpoint, checked like LoadEMA.
func LoadTrained(f *checkpoints.File) (*model.Params, *Config, error) {
	return loadWeights(f, prefixParams)
}

// readParams fills p from the tensors prefix+name of f, each checked against the parameter's shape.
func readParams(f *checkpoints.File, prefix, dtype string, p *model.Params) error {
	values := map[string]any{}
	for _, spec := range p.Specs() {
		var v any
		var shape []int
		var err error
		if dtype == "float64" {
			v, shape, err = f.F64(prefix + spec.Name)
		} else {
			v, shape, err = f.F32(prefix + spec.Name)
		}
		if err != nil {
			return fmt.Errorf("train: %s: %w", f.Path(), err)
		}
		if !slices.Equal(shape, spec.Shape) {
			return fmt.Errorf("train: %s: %s has shape %v, the model needs %v", f.Path(), prefix+spec.Name, shape, spec.Shape)
		}
		values[spec.Name] = v
	}
	if err := p.Import(values); err != nil {
		return fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	return nil
}

func loadWeights(f *checkpoints.File, prefix string) (*model.Params, *Config, error) {
	cfg, err := ConfigFromCheckpoint(f)
	if err != nil {
		return nil, nil, err
	}
	p, err := model.NewParams(cfg.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %s: %w", f.Path(), err)
	}
	if err := readParams(f, prefix, cfg.Model.DType, p); err != nil {
		return nil, nil, err
	}
	return p, cfg, nil
}
