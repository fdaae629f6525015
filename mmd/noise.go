package mmd

import (
	"fmt"
	"math"
	"strings"
)

// NoiseSchedule gives the noise level beta_n of step n >= 0 of a
// noise-injected flow.
type NoiseSchedule interface {
	// Level returns beta_n >= 0.
	Level(n int) float64
	// Validate reports whether the schedule's parameters are usable.
	Validate() error
	// String describes the schedule.
	String() string
}

// ConstantNoise is beta_n = Beta for every n.
type ConstantNoise struct {
	Beta float64
}

// Level implements NoiseSchedule.
func (c ConstantNoise) Level(int) float64 { return c.Beta }

// Validate implements NoiseSchedule.
func (c ConstantNoise) Validate() error { return checkLevel("constant noise", c.Beta) }

func (c ConstantNoise) String() string { return fmt.Sprintf("constant(%g)", c.Beta) }

// DecayNoise is beta_n = Beta0 * Factor^floor(n/Every): the level is
// multiplied by Factor every Every steps. [HalvingNoise] is the schedule of
// Arbel et al.'s student-teacher code (Factor 0.5, every 1000 epochs).
type DecayNoise struct {
	Beta0  float64
	Factor float64
	Every  int
}

// HalvingNoise returns the schedule beta0, halved every every steps.
func HalvingNoise(beta0 float64, every int) DecayNoise {
	return DecayNoise{Beta0: beta0, Factor: 0.5, Every: every}
}

// Level implements NoiseSchedule.
func (s DecayNoise) Level(n int) float64 {
	if n < 0 || s.Every <= 0 {
		return s.Beta0
	}
	return s.Beta0 * math.Pow(s.Factor, float64(n/s.Every))
}

// Validate implements NoiseSchedule.
func (s DecayNoise) Validate() error {
	if err := checkLevel("decay noise", s.Beta0); err != nil {
		return err
	}
	if !(s.Factor >= 0 && s.Factor <= 1) {
		return fmt.Errorf("mmd: decay noise: factor %v, need 0 <= factor <= 1: %w", s.Factor, ErrParam)
	}
	if s.Every < 1 {
		return fmt.Errorf("mmd: decay noise: every %d steps, need >= 1: %w", s.Every, ErrParam)
	}
	return nil
}

func (s DecayNoise) String() string {
	if s.Factor == 0.5 {
		return fmt.Sprintf("halve(beta0=%g, every=%d)", s.Beta0, s.Every)
	}
	return fmt.Sprintf("decay(beta0=%g, factor=%g, every=%d)", s.Beta0, s.Factor, s.Every)
}

// ListNoise is beta_n = Betas[n] for n < len(Betas) and the last value after
// that.
type ListNoise struct {
	Betas []float64
}

// Level implements NoiseSchedule.
func (l ListNoise) Level(n int) float64 {
	if len(l.Betas) == 0 {
		return 0
	}
	return l.Betas[max(0, min(n, len(l.Betas)-1))]
}

// Validate implements NoiseSchedule.
func (l ListNoise) Validate() error {
	if len(l.Betas) == 0 {
		return fmt.Errorf("mmd: list noise: no levels: %w", ErrParam)
	}
	for _, b := range l.Betas {
		if err := checkLevel("list noise", b); err != nil {
			return err
		}
	}
	return nil
}

func (l ListNoise) String() string { return fmt.Sprintf("list(%v)", l.Betas) }

func checkLevel(name string, b float64) error {
	if !(b >= 0) || math.IsInf(b, 1) {
		return fmt.Errorf("mmd: %s: level %v, need a finite level >= 0: %w", name, b, ErrParam)
	}
	return nil
}

// ParseNoise parses a noise schedule:
//
//	none                    no noise (returns nil)
//	const:BETA              constant level
//	halve:BETA0,EVERY       BETA0 halved every EVERY steps
//	decay:BETA0,FACTOR,EVERY BETA0 times FACTOR every EVERY steps
//	list:B0,B1,...          the given levels, the last one repeated
//
// The returned schedule has been validated.
func ParseNoise(s string) (NoiseSchedule, error) {
	name, nums, err := parseSpec("noise schedule", s)
	if err != nil {
		return nil, err
	}
	want := func(n int) error {
		if len(nums) != n {
			return fmt.Errorf("mmd: noise schedule %q: %s takes %d numbers, got %d: %w", s, name, n, len(nums), ErrParam)
		}
		return nil
	}
	integer := func(v float64) (int, error) {
		if v != math.Trunc(v) || v < 1 || v > math.MaxInt32 {
			return 0, fmt.Errorf("mmd: noise schedule %q: step count %v is not a positive integer: %w", s, v, ErrParam)
		}
		return int(v), nil
	}
	var ns NoiseSchedule
	switch strings.ToLower(name) {
	case "none", "":
		if err := want(0); err != nil {
			return nil, err
		}
		return nil, nil
	case "const":
		if err := want(1); err != nil {
			return nil, err
		}
		ns = ConstantNoise{Beta: nums[0]}
	case "halve":
		if err := want(2); err != nil {
			return nil, err
		}
		every, err := integer(nums[1])
		if err != nil {
			return nil, err
		}
		ns = HalvingNoise(nums[0], every)
	case "decay":
		if err := want(3); err != nil {
			return nil, err
		}
		every, err := integer(nums[2])
		if err != nil {
			return nil, err
		}
		ns = DecayNoise{Beta0: nums[0], Factor: nums[1], Every: every}
	case "list":
		ns = ListNoise{Betas: nums}
	default:
		return nil, fmt.Errorf("mmd: unknown noise schedule %q (want none, const, halve, decay or list): %w", s, ErrParam)
	}
	if err := ns.Validate(); err != nil {
		return nil, err
	}
	return ns, nil
}
