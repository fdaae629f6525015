package diffusion

import (
	"errors"
	"fmt"
	"math"
)

// Schedule is the VP noise schedule. The zero value is not usable; start from Default.
type Schedule struct {
	BetaMin float64 `json:"beta_min"` // beta(s) at s = 0 (score_sde: 0.1)
	BetaMax float64 `json:"beta_max"` // beta(s) at s = 1 (score_sde: 20)
	TMin    float64 `json:"t_min"`    // smallest level used for training and sampling (score_sde: 1e-3)
}

// Default returns the score_sde VP constants.
func Default() Schedule { return Schedule{BetaMin: 0.1, BetaMax: 20, TMin: 1e-3} }

// ErrSchedule reports an invalid schedule.
var ErrSchedule = errors.New("diffusion: invalid schedule")

// Validate reports whether the constants describe a usable schedule.
func (s Schedule) Validate() error {
	switch {
	case !(s.BetaMin >= 0) || math.IsInf(s.BetaMin, 0):
		return fmt.Errorf("%w: BetaMin %v must be finite and >= 0", ErrSchedule, s.BetaMin)
	case !(s.BetaMax > s.BetaMin) || math.IsInf(s.BetaMax, 0):
		return fmt.Errorf("%w: BetaMax %v must be finite and > BetaMin %v", ErrSchedule, s.BetaMax, s.BetaMin)
	case !(s.TMin > 0 && s.TMin < 1):
		return fmt.Errorf("%w: TMin %v must lie in (0, 1)", ErrSchedule, s.TMin)
	}
	return nil
}

// logAlpha is log alpha_t = -t^2 (BetaMax-BetaMin)/4 - t BetaMin/2.
func (s Schedule) logAlpha(t float64) float64 {
	return -t*t*(s.BetaMax-s.BetaMin)/4 - t*s.BetaMin/2
}

// Alpha returns the signal scale alpha_t.
func (s Schedule) Alpha(t float64) float64 { return math.Exp(s.logAlpha(t)) }

// Beta returns the noise scale beta_t = sqrt(1 - alpha_t^2), computed without cancellation at small t.
func (s Schedule) Beta(t float64) float64 { return math.Sqrt(-math.Expm1(2 * s.logAlpha(t))) }

// PairDistance returns (alpha_s - alpha_t)^2 + (beta_s - beta_t)^2: the mean squared distance per value between
// x_t = alpha_t x_0 + beta_t eps and x_s = alpha_s x_0 + beta_s eps (one image, one noise) for data of unit mean
// square, E x_0^2 = 1. With s = 0 it is the distance to the clean image.
func (s Schedule) PairDistance(t, r float64) float64 {
	at, bt := s.AlphaBeta(t)
	ar, br := s.AlphaBeta(r)
	return (ar-at)*(ar-at) + (br-bt)*(br-bt)
}

// AlphaBeta returns alpha_t and beta_t together.
func (s Schedule) AlphaBeta(t float64) (alpha, beta float64) { return s.Alpha(t), s.Beta(t) }
