package sample

import (
	"fmt"
	"math"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
)

// Mode selects what the flow uses for the particle mean embedding m_Q.
type Mode int

const (
	// Exact is the interacting flow: particle i uses the leave-one-out mean feature of the other particles of its
	// flow group, m_Q^(-i) = (S - phi_i)/(N-1). It beat Approx in every comparison measured so far.
	Exact Mode = iota
	// Approx uses the mean feature of forward-noised training data, m_N[k]; particles are then independent (apart
	// from the EtaNorm normaliser, which is shared by a flow group).
	Approx
)

// String returns the flag spelling of m.
func (m Mode) String() string {
	switch m {
	case Exact:
		return "exact"
	case Approx:
		return "approx"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "exact" or "approx".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "exact":
		return Exact, nil
	case "approx", "approximate":
		return Approx, nil
	}
	return 0, fmt.Errorf("sample: unknown flow %q (want exact or approx)", s)
}

// MarshalText writes the flag spelling of m.
func (m Mode) MarshalText() ([]byte, error) {
	if _, err := ParseMode(m.String()); err != nil {
		return nil, err
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads any spelling ParseMode accepts.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// EtaSchedule is how the step size eta_k depends on the level.
type EtaSchedule int

const (
	// EtaConstant: eta_k = Eta for every step.
	EtaConstant EtaSchedule = iota
	// EtaBetaDrop: Eta is the total path length, spread over the levels in proportion to the drop in beta_t from
	// each level to the next (the last level drops to 0) and split evenly over its N_s steps.
	EtaBetaDrop
	// EtaVariance: eta_k = Eta * beta_{t_k}^2.
	EtaVariance
)

// String returns the flag spelling of e.
func (e EtaSchedule) String() string {
	switch e {
	case EtaConstant:
		return "constant"
	case EtaBetaDrop:
		return "beta-drop"
	case EtaVariance:
		return "variance"
	}
	return fmt.Sprintf("EtaSchedule(%d)", int(e))
}

// ParseEtaSchedule parses "constant", "beta-drop" or "variance".
func ParseEtaSchedule(s string) (EtaSchedule, error) {
	switch strings.ToLower(s) {
	case "constant", "const":
		return EtaConstant, nil
	case "beta-drop", "betadrop", "beta_drop":
		return EtaBetaDrop, nil
	case "variance", "var":
		return EtaVariance, nil
	}
	return 0, fmt.Errorf("sample: unknown eta schedule %q (want constant, beta-drop or variance)", s)
}

// MarshalText writes the flag spelling of e.
func (e EtaSchedule) MarshalText() ([]byte, error) {
	if _, err := ParseEtaSchedule(e.String()); err != nil {
		return nil, err
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads any spelling ParseEtaSchedule accepts.
func (e *EtaSchedule) UnmarshalText(b []byte) error {
	v, err := ParseEtaSchedule(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// Clip is when particles are clamped to [-1, 1].
type Clip int

const (
	// ClipEnd clamps once, after the last step (the default: per-step clipping hurt diversity).
	ClipEnd Clip = iota
	// ClipStep clamps after every step.
	ClipStep
	// ClipNone never clamps (the PNG writers still clamp pixel values).
	ClipNone
)

// String returns the flag spelling of c.
func (c Clip) String() string {
	switch c {
	case ClipEnd:
		return "end"
	case ClipStep:
		return "step"
	case ClipNone:
		return "none"
	}
	return fmt.Sprintf("Clip(%d)", int(c))
}

// ParseClip parses "none", "step" or "end".
func ParseClip(s string) (Clip, error) {
	switch strings.ToLower(s) {
	case "end":
		return ClipEnd, nil
	case "step":
		return ClipStep, nil
	case "none", "off":
		return ClipNone, nil
	}
	return 0, fmt.Errorf("sample: unknown clip mode %q (want none, step or end)", s)
}

// MarshalText writes the flag spelling of c.
func (c Clip) MarshalText() ([]byte, error) {
	if _, err := ParseClip(c.String()); err != nil {
		return nil, err
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads any spelling ParseClip accepts.
func (c *Clip) UnmarshalText(b []byte) error {
	v, err := ParseClip(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Options configures the flow. Start from DefaultOptions or DefaultOptionsFor; every field but RefRatio and
// Schedule (cmd/sample takes both from the checkpoint) is a cmd/sample flag.
type Options struct {
	Mode          Mode              // -flow exact|approx
	Update        Update            // -update euler|ddim: how a step moves the particles
	Levels        int               // -levels: T, the number of noise levels
	StepsPerLevel int               // -steps-per-level: N_s (DDIM: sub-steps per level)
	Eta           float64           // -eta: step size, total path length for EtaBetaDrop, or DDIM's length multiplier
	EtaSchedule   EtaSchedule       // -eta-schedule constant|beta-drop|variance (Euler only)
	EtaNorm       bool              // -eta-norm: divide each step by the flow group's mean per-particle gradient norm (Euler only)
	X0Clip        bool              // -x0-clip: clamp DDIM's implied clean image yhat to [-1, 1] (DDIM only)
	DDIMNoise     float64           // -ddim-noise: DDIM's eta (Song et al. 2021, eq. 16): 0 deterministic, 1 ancestral (DDIM only)
	DDIMGradLen   bool              // -ddim-grad-length: each particle's L in proportion to its gradient norm over the group's mean (DDIM only)
	RefRatio      float64           // the critic's reference ratio rho (train.Config.RefRatio); m_P must be taken at it
	Spacing       diffusion.Spacing // -spacing uniform|quadratic
	Noise         float64           // -noise: noise-injection scale nu at t_max, decaying linearly to 0 at t_min
	Clip          Clip              // -clip none|step|end
	Particles     int               // -particles: flow-group size N
	Chunk         int               // -chunk: particles per critic call (memory bound; never changes results)
	Seed          uint64            // -seed
	TMax          float64           // first (noisiest) level
	TMin          float64           // last level
	Schedule      diffusion.Schedule
}

// DefaultOptions returns the defaults measured best so far for an Euler flow over particles of dimension dim
// (see docs/sampling.md): T = 50, N_s = 2, step normalisation on, clamping at the end, no noise injection;
// Exact moves a constant 0.5 per step, Approx a total path of sqrt(dim) spread over the levels by the drop in beta_t.
// X0Clip is on (it matters only to the DDIM update) and RefRatio 0 (a critic trained against the clean data).
func DefaultOptions(mode Mode, dim int) Options {
	s := diffusion.Default()
	o := Options{
		Mode:          mode,
		Update:        Euler,
		Levels:        50,
		StepsPerLevel: 2,
		Eta:           0.5,
		EtaSchedule:   EtaConstant,
		EtaNorm:       true,
		X0Clip:        true,
		Spacing:       diffusion.Uniform,
		Clip:          ClipEnd,
		Particles:     256,
		Chunk:         128,
		TMax:          1,
		TMin:          s.TMin,
		Schedule:      s,
	}
	if mode == Approx {
		o.EtaSchedule = EtaBetaDrop
		o.Eta = math.Sqrt(float64(max(dim, 1)))
	}
	return o
}

// DefaultOptionsFor returns the defaults for a flow with update u: DefaultOptions for Euler; for DDIM the same
// with Eta = DefaultDDIMEta and the settings DDIM does not use neutral (EtaSchedule constant, EtaNorm off), so that
// they read as unused in an export's manifest.
func DefaultOptionsFor(mode Mode, u Update, dim int) Options {
	o := DefaultOptions(mode, dim)
	o.Update = u
	if u == DDIM {
		o.Eta, o.EtaSchedule, o.EtaNorm = DefaultDDIMEta, EtaConstant, false
	}
	return o
}

// maxSteps bounds T*N_s so that (level, step) pairs pack into 32 bits of a random-stream id.
const maxSteps = 1 << 30

// MaxLevels bounds T: the mean embeddings hold T x D float64 values (100,000 levels of 512 features: 400 MB).
const MaxLevels = 100_000

// Validate reports the first invalid field, with a message naming it.
func (o Options) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.Mode != Exact && o.Mode != Approx:
		return fmt.Errorf("sample: unknown flow mode %v", o.Mode)
	case o.Update != Euler && o.Update != DDIM:
		return fmt.Errorf("sample: unknown update %v", o.Update)
	case !(o.RefRatio >= 0 && o.RefRatio < 1):
		return fmt.Errorf("sample: reference ratio = %v, want 0 <= rho < 1", o.RefRatio)
	case o.Levels < 1 || o.Levels > MaxLevels:
		return fmt.Errorf("sample: levels = %d, want 1 .. %d", o.Levels, MaxLevels)
	case o.StepsPerLevel < 1:
		return fmt.Errorf("sample: steps per level = %d, want >= 1", o.StepsPerLevel)
	case o.Levels > maxSteps/o.StepsPerLevel:
		return fmt.Errorf("sample: levels x steps per level = %d x %d is too many", o.Levels, o.StepsPerLevel)
	case !finite(o.Eta) || o.Eta <= 0:
		return fmt.Errorf("sample: eta = %v, want a finite value > 0", o.Eta)
	case o.EtaSchedule != EtaConstant && o.EtaSchedule != EtaBetaDrop && o.EtaSchedule != EtaVariance:
		return fmt.Errorf("sample: unknown eta schedule %v", o.EtaSchedule)
	case o.Spacing != diffusion.Uniform && o.Spacing != diffusion.Quadratic:
		return fmt.Errorf("sample: unknown level spacing %v", o.Spacing)
	case !(o.DDIMNoise >= 0 && o.DDIMNoise <= 1):
		return fmt.Errorf("sample: ddim noise = %v, want 0 <= value <= 1", o.DDIMNoise)
	case o.DDIMNoise > 0 && o.Update != DDIM:
		return fmt.Errorf("sample: ddim noise %v needs the ddim update", o.DDIMNoise)
	case o.DDIMGradLen && o.Update != DDIM:
		return fmt.Errorf("sample: ddim grad length needs the ddim update")
	case !finite(o.Noise) || o.Noise < 0:
		return fmt.Errorf("sample: noise = %v, want a finite value >= 0", o.Noise)
	case o.Clip != ClipEnd && o.Clip != ClipStep && o.Clip != ClipNone:
		return fmt.Errorf("sample: unknown clip mode %v", o.Clip)
	case o.Particles < 1:
		return fmt.Errorf("sample: particles = %d, want >= 1", o.Particles)
	case o.Mode == Exact && o.Particles < 2:
		return fmt.Errorf("sample: the exact flow needs at least 2 particles per group (leave-one-out mean), got %d",
			o.Particles)
	case o.Chunk < 1:
		return fmt.Errorf("sample: chunk = %d, want >= 1", o.Chunk)
	}
	if err := o.Schedule.Validate(); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if o.TMin < o.Schedule.TMin {
		return fmt.Errorf("sample: t_min = %v is below the schedule's t_min %v", o.TMin, o.Schedule.TMin)
	}
	if _, err := diffusion.Levels(o.Levels, o.TMax, o.TMin, o.Spacing); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}

// ValidateFor is Validate plus the checks that need the particles' shape and the number of features: that a flow
// group fits in memory (NewFlow refuses it otherwise). Call it before compiling a critic for the flow.
func (o Options) ValidateFor(shape data.Shape, features int) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if dim := shape.Size(); dim < 1 || features < 1 || o.Particles > maxElems/max(dim, features) {
		return fmt.Errorf("sample: %d particles of %v (%d features) per flow group do not fit in memory; lower -particles",
			o.Particles, shape, features)
	}
	return nil
}

// LevelGrid returns the T descending sampling levels, t_max first. ComputeEmbeddings must use the same grid.
func (o Options) LevelGrid() ([]float64, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	lv, err := diffusion.Levels(o.Levels, o.TMax, o.TMin, o.Spacing)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	return lv, nil
}

// NFE is the number of function evaluations of one flow: T * N_s (each is one feature pass and one input-gradient
// pass over the particles).
func (o Options) NFE() int { return o.Levels * o.StepsPerLevel }

// StepSizes returns eta_k for each level of levels (descending, as from LevelGrid): the size of each of the N_s
// steps taken at that level, before EtaNorm's normalisation.
func (o Options) StepSizes(levels []float64) []float64 {
	T := len(levels)
	eta := make([]float64, T)
	switch o.EtaSchedule {
	case EtaConstant:
		for k := range eta {
			eta[k] = o.Eta
		}
	case EtaVariance:
		for k, t := range levels {
			b := o.Schedule.Beta(t)
			eta[k] = o.Eta * b * b
		}
	case EtaBetaDrop:
		// drop_k = beta(t_k) - beta(t_{k+1}), the last one drops to 0; the drops telescope to beta(t_1).
		var total float64
		for k, t := range levels {
			next := 0.0
			if k+1 < T {
				next = o.Schedule.Beta(levels[k+1])
			}
			eta[k] = o.Schedule.Beta(t) - next
			total += eta[k]
		}
		for k := range eta {
			if total > 0 {
				eta[k] = o.Eta * eta[k] / total / float64(o.StepsPerLevel)
			} else {
				eta[k] = o.Eta / float64(T*o.StepsPerLevel)
			}
		}
	}
	return eta
}

// NoiseScales returns nu_k, the noise-injection scale of each level: Noise at the first level, decaying linearly to
// exactly 0 at the last.
func (o Options) NoiseScales(T int) []float64 {
	nu := make([]float64, T)
	if T < 2 || o.Noise == 0 {
		return nu
	}
	for k := range nu {
		nu[k] = o.Noise * float64(T-1-k) / float64(T-1)
	}
	return nu
}
