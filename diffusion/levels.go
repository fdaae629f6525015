package diffusion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// TDist is how training levels t are drawn.
type TDist int

const (
	// TUniform draws t uniformly on [TMin, 1].
	TUniform TDist = iota
	// TQuad draws t = TMin + (1-TMin) u^2 with u ~ U[0, 1]: more low-noise levels, where the critic learns slowest.
	TQuad
)

// String returns the flag spelling of d.
func (d TDist) String() string {
	switch d {
	case TUniform:
		return "uniform"
	case TQuad:
		return "quad"
	}
	return fmt.Sprintf("TDist(%d)", int(d))
}

// ParseTDist parses "uniform" or "quad".
func ParseTDist(s string) (TDist, error) {
	switch strings.ToLower(s) {
	case "uniform":
		return TUniform, nil
	case "quad", "quadratic":
		return TQuad, nil
	}
	return 0, fmt.Errorf("diffusion: unknown t distribution %q (want uniform or quad)", s)
}

// MarshalText writes the flag spelling of d (config files and checkpoints record it so).
func (d TDist) MarshalText() ([]byte, error) {
	if _, err := ParseTDist(d.String()); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads any spelling ParseTDist accepts.
func (d *TDist) UnmarshalText(b []byte) error {
	v, err := ParseTDist(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// SampleT draws one training level t in [TMin, 1] from dist.
func (s Schedule) SampleT(dist TDist, rng *rand.Rand) float64 {
	u := rng.Float64()
	if dist == TQuad {
		u *= u
	}
	return s.TMin + (1-s.TMin)*u
}

// Spacing is how the sampler's level grid is spread between t_max and t_min.
type Spacing int

const (
	// Uniform spaces the levels evenly in t.
	Uniform Spacing = iota
	// Quadratic spaces them as t_min + (t_max-t_min) (k/(T-1))^2: denser near t_min, where detail forms.
	Quadratic
)

// String returns the flag spelling of sp.
func (sp Spacing) String() string {
	switch sp {
	case Uniform:
		return "uniform"
	case Quadratic:
		return "quadratic"
	}
	return fmt.Sprintf("Spacing(%d)", int(sp))
}

// ParseSpacing parses "uniform" or "quadratic" (or "quad").
func ParseSpacing(s string) (Spacing, error) {
	switch strings.ToLower(s) {
	case "uniform":
		return Uniform, nil
	case "quadratic", "quad":
		return Quadratic, nil
	}
	return 0, fmt.Errorf("diffusion: unknown level spacing %q (want uniform or quadratic)", s)
}

// MarshalText writes the flag spelling of sp.
func (sp Spacing) MarshalText() ([]byte, error) {
	if _, err := ParseSpacing(sp.String()); err != nil {
		return nil, err
	}
	return []byte(sp.String()), nil
}

// UnmarshalText reads any spelling ParseSpacing accepts.
func (sp *Spacing) UnmarshalText(b []byte) error {
	v, err := ParseSpacing(string(b))
	if err != nil {
		return err
	}
	*sp = v
	return nil
}

// Levels returns T sampling levels in descending order, from tMax (first) to tMin (last).
// T = 1 gives the single level tMin (the level closest to data).
func Levels(T int, tMax, tMin float64, sp Spacing) ([]float64, error) {
	switch {
	case T < 1:
		return nil, fmt.Errorf("diffusion: Levels: need at least 1 level, got %d", T)
	case !(tMin > 0) || !(tMax <= 1) || !(tMin <= tMax) || math.IsNaN(tMax):
		return nil, fmt.Errorf("diffusion: Levels: need 0 < tMin <= tMax <= 1, got tMin %v, tMax %v", tMin, tMax)
	case sp != Uniform && sp != Quadratic:
		return nil, fmt.Errorf("diffusion: Levels: unknown spacing %v", sp)
	}
	out := make([]float64, T)
	if T == 1 {
		out[0] = tMin
		return out, nil
	}
	for k := range T {
		// r runs from 1 (first level, tMax) down to 0 (last level, tMin).
		r := float64(T-1-k) / float64(T-1)
		if sp == Quadratic {
			r *= r
		}
		out[k] = tMin + (tMax-tMin)*r
	}
	out[0], out[T-1] = tMax, tMin // exact end points
	return out, nil
}
