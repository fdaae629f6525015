package rundir

import (
	"fmt"
	"slices"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/model"
)

// Weights is one of the four parameter sets of a checkpoint; its value is the prefix of their tensor names. In
// Python:
//
//	sd = safetensors.torch.load_file("ckpt-000010000.safetensors")
//	ema = {k[len("ema."):]: v for k, v in sd.items() if k.startswith("ema.")}
type Weights string

// The parameter sets of a checkpoint.
const (
	Trained Weights = "params." // the optimiser's weights
	EMA     Weights = "ema."    // their exponential moving average: the sampling weights
	AdamM   Weights = "adam_m." // Adam's first moments
	AdamV   Weights = "adam_v." // Adam's second moments
)

// AllWeights lists the parameter sets in the order a checkpoint stores them.
var AllWeights = []Weights{Trained, EMA, AdamM, AdamV}

// The trainer's state in a checkpoint, beside the weights.
const (
	TensorStep       = "state.step"        // I64 [1]: completed training steps
	TensorAdamStep   = "state.adam_step"   // I64 [1]: Adam updates applied
	TensorEMAUpdates = "state.ema_updates" // I64 [1]: EMA updates applied
	TensorRNG        = "state.rng"         // U8: the PCG state of the level and noise draws
	TensorSampler    = "state.sampler"     // U8: the data sampler's state

	MetaTrainConfig = "dmmd.train_config" // metadata: the run's training configuration as JSON
)

// ExpectedShapes lists every tensor a checkpoint of model m must hold, with its shape (nil: a byte blob).
func ExpectedShapes(m model.Config) map[string][]int {
	want := map[string][]int{
		TensorStep: {1}, TensorAdamStep: {1}, TensorEMAUpdates: {1}, TensorRNG: nil, TensorSampler: nil,
	}
	for _, s := range m.Specs() {
		for _, set := range AllWeights {
			want[string(set)+s.Name] = s.Shape
		}
	}
	return want
}

// AddWeights adds p to w as the parameter set set, one tensor per parameter in p's dtype.
func AddWeights(w *checkpoints.Writer, set Weights, p *model.Params) {
	for i, spec := range p.Specs() {
		switch v := p.Data(i).(type) {
		case []float32:
			w.AddF32(string(set)+spec.Name, spec.Shape, v)
		case []float64:
			w.AddF64(string(set)+spec.Name, spec.Shape, v)
		}
	}
}

// ReadWeights fills p (allocated for the checkpoint's model, whose dtype is dtype) from the parameter set set of
// f, each tensor checked against the parameter's shape.
func ReadWeights(f *checkpoints.File, set Weights, dtype string, p *model.Params) error {
	values := map[string]any{}
	for _, spec := range p.Specs() {
		name := string(set) + spec.Name
		var v any
		var shape []int
		var err error
		if dtype == "float64" {
			v, shape, err = f.F64(name)
		} else {
			v, shape, err = f.F32(name)
		}
		if err != nil {
			return fmt.Errorf("rundir: %s: %w", f.Path(), err)
		}
		if !slices.Equal(shape, spec.Shape) {
			return fmt.Errorf("rundir: %s: %s has shape %v, the model needs %v", f.Path(), name, shape, spec.Shape)
		}
		values[spec.Name] = v
	}
	if err := p.Import(values); err != nil {
		return fmt.Errorf("rundir: %s: %w", f.Path(), err)
	}
	return nil
}
