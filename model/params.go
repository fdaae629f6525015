package model

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"
)

// ParamSpec names one parameter tensor and its shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// Size is the number of elements.
func (s ParamSpec) Size() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Specs lists the network's parameter tensors in a fixed order: the tensors of every block of the network, in
// the order of the blocks (see the package documentation for the layout).
func (c Config) Specs() []ParamSpec {
	ps := newNetwork(c).params()
	out := make([]ParamSpec, len(ps))
	for i, p := range ps {
		out[i] = p.spec()
	}
	return out
}

// Params is one set of network parameters (the trained weights, or their EMA). Graphs built from a Params read its
// tensors in place, so an update through Data is seen by every compiled graph at its next run.
type Params struct {
	cfg     Config
	specs   []ParamSpec
	tensors []*tensor.Dense
	index   map[string]int
}

// NewParams allocates zero parameters for cfg.
func NewParams(cfg Config) (*Params, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Params{cfg: cfg, specs: cfg.Specs(), index: map[string]int{}}
	for i, s := range p.specs {
		p.tensors = append(p.tensors, tensor.New(tensor.Of(cfg.dtype()), tensor.WithShape(s.Shape...)))
		p.index[s.Name] = i
	}
	return p, nil
}

// Init returns parameters initialised deterministically from seed: every weight uniform in
// +-1/sqrt(fan_in) (PyTorch's default for Conv2d and Linear), every bias zero. Each tensor draws from its own
// stream keyed by its name, so the values of one tensor do not depend on the others.
func Init(cfg Config, seed uint64) (*Params, error) {
	p, err := NewParams(cfg)
	if err != nil {
		return nil, err
	}
	for i, s := range p.specs {
		if len(s.Shape) == 1 {
			continue // bias
		}
		fanIn := s.Size() / s.Shape[0]
		bound := 1 / math.Sqrt(float64(fanIn))
		h := fnv.New64a()
		h.Write([]byte(s.Name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		switch d := p.tensors[i].Data().(type) {
		case []float32:
			for j := range d {
				d[j] = float32((2*rng.Float64() - 1) * bound)
			}
		case []float64:
			for j := range d {
				d[j] = (2*rng.Float64() - 1) * bound
			}
		}
	}
	return p, nil
}

// Config returns the network configuration.
func (p *Params) Config() Config { return p.cfg }

// Specs returns the names and shapes, in the fixed order used everywhere.
func (p *Params) Specs() []ParamSpec { return p.specs }

// Len is the number of tensors.
func (p *Params) Len() int { return len(p.specs) }

// Count is the total number of scalar parameters.
func (p *Params) Count() int {
	n := 0
	for _, s := range p.specs {
		n += s.Size()
	}
	return n
}

// Data returns tensor i's backing slice ([]float32 or []float64, per the config's dtype). Writes go straight into
// the parameters.
func (p *Params) Data(i int) any { return p.tensors[i].Data() }

// Index returns the position of the named tensor, or -1.
func (p *Params) Index(name string) int {
	if i, ok := p.index[name]; ok {
		return i
	}
	return -1
}

// Clone returns a deep copy (for the EMA weights).
func (p *Params) Clone() *Params {
	q := &Params{cfg: p.cfg, specs: p.specs, index: p.index}
	for _, t := range p.tensors {
		q.tensors = append(q.tensors, t.Clone().(*tensor.Dense))
	}
	return q
}

// CopyFrom overwrites p's values with q's; both must have the same config.
func (p *Params) CopyFrom(q *Params) error {
	if err := sameLayout(p, q); err != nil {
		return err
	}
	for i := range p.tensors {
		copyAny(p.tensors[i].Data(), q.tensors[i].Data())
	}
	return nil
}

func sameLayout(p, q *Params) error {
	if len(p.specs) != len(q.specs) {
		return fmt.Errorf("model: parameter sets differ: %d vs %d tensors", len(p.specs), len(q.specs))
	}
	for i := range p.specs {
		if p.specs[i].Name != q.specs[i].Name || !slices.Equal(p.specs[i].Shape, q.specs[i].Shape) {
			return fmt.Errorf("model: parameter sets differ at %s%v vs %s%v",
				p.specs[i].Name, p.specs[i].Shape, q.specs[i].Name, q.specs[i].Shape)
		}
		if p.tensors[i].Dtype() != q.tensors[i].Dtype() {
			return fmt.Errorf("model: parameter sets differ in dtype: %v vs %v", p.tensors[i].Dtype(), q.tensors[i].Dtype())
		}
	}
	return nil
}

func copyAny(dst, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d, src.([]float32))
	case []float64:
		copy(d, src.([]float64))
	}
}

// Float64s returns a float64 copy of tensor i.
func (p *Params) Float64s(i int) []float64 {
	switch d := p.tensors[i].Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for j, v := range d {
			out[j] = float64(v)
		}
		return out
	case []float64:
		return slices.Clone(d)
	}
	return nil
}

// SetFloat64s overwrites tensor i from float64 values (rounded for a float32 network).
func (p *Params) SetFloat64s(i int, v []float64) error {
	if len(v) != p.specs[i].Size() {
		return fmt.Errorf("model: %s: got %d values, want %d", p.specs[i].Name, len(v), p.specs[i].Size())
	}
	switch d := p.tensors[i].Data().(type) {
	case []float32:
		for j := range d {
			d[j] = float32(v[j])
		}
	case []float64:
		copy(d, v)
	}
	return nil
}

// Export returns a copy of every tensor by name, in the dtype of the network ([]float32 or []float64).
func (p *Params) Export() map[string]any {
	out := make(map[string]any, len(p.specs))
	for i, s := range p.specs {
		switch d := p.tensors[i].Data().(type) {
		case []float32:
			out[s.Name] = slices.Clone(d)
		case []float64:
			out[s.Name] = slices.Clone(d)
		}
	}
	return out
}

// Import overwrites every tensor from values by name. It reports, in one error, every missing or unexpected name,
// and every tensor of the wrong length or dtype, and changes nothing in that case.
func (p *Params) Import(values map[string]any) error {
	var problems []string
	for i, s := range p.specs {
		v, ok := values[s.Name]
		if !ok {
			problems = append(problems, "missing "+s.Name)
			continue
		}
		switch v := v.(type) {
		case []float32:
			if _, ok := p.tensors[i].Data().([]float32); !ok {
				problems = append(problems, s.Name+": float32 values for a float64 network")
			} else if len(v) != s.Size() {
				problems = append(problems, fmt.Sprintf("%s: %d values, want %d", s.Name, len(v), s.Size()))
			}
		case []float64:
			if _, ok := p.tensors[i].Data().([]float64); !ok {
				problems = append(problems, s.Name+": float64 values for a float32 network")
			} else if len(v) != s.Size() {
				problems = append(problems, fmt.Sprintf("%s: %d values, want %d", s.Name, len(v), s.Size()))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: unsupported value type %T", s.Name, v))
		}
	}
	for name := range values {
		if _, ok := p.index[name]; !ok {
			problems = append(problems, "unexpected "+name)
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("model: cannot import parameters: %s", joinMax(problems, 10))
	}
	for i, s := range p.specs {
		copyAny(p.tensors[i].Data(), values[s.Name])
	}
	return nil
}

func joinMax(s []string, n int) string {
	out := ""
	for i, v := range s {
		if i == n {
			return out + fmt.Sprintf("; and %d more", len(s)-n)
		}
		if i > 0 {
			out += "; "
		}
		out += v
	}
	return out
}
