package model

import (
	"fmt"
	"math"
)

// LossConfig weighs and selects the terms of the DMMD critic loss -MMD^2 + LambdaL2 F_l2 + LambdaGrad F_grad (see
// the package documentation for the formulas). It is recorded in checkpoints; the zero value of every selector
// (MMD, L2, PenaltyAt, Penalty, Groups) is the original loss, so configurations written before a selector existed load
// unchanged.
type LossConfig struct {
	LambdaL2   float64 `json:"lambda_l2"`   // weight of F_l2 (see L2)
	LambdaGrad float64 `json:"lambda_grad"` // weight of F_grad (see Penalty)
	// Penalty is the form of F_grad: "gp" (WGAN-GP's mean_i (||grad_z f_t(z_i)|| - 1)^2, Gulrajani et al. 2017;
	// also when empty) or "zero" (zero-centred: mean_i ||grad_z f_t(z_i)||^2, the Sobolev-GAN / R1 form, Mroueh et
	// al. 2018, Mescheder et al. 2018). With "zero" and the penalty at x_t, the critic between P_t and a nearby
	// reference level is the Sobolev critic: solving -div(p_t grad f) = p_ref - p_t, its gradient is, to first
	// order in the step, proportional to the probability-flow velocity (docs/quality.md); with "gp" it is the unit
	// direction of a W1 flux, which is not.
	Penalty string `json:"penalty,omitempty"`
	// PenaltyAt is where F_grad reads the witness gradient: "xt" (the noisy points, the seed's choice; also
	// when empty) or "interp" (points z_i = u_i x_t^i + (1 - u_i) y^i on the segments between the two batches,
	// as in WGAN-GP; the caller draws them and passes them to RunAt or RunLevels).
	PenaltyAt string `json:"penalty_at,omitempty"`
	// MMD is the MMD^2 estimator: "unbiased" (the U-statistic; also when empty), "biased" (the V-statistic
	// ||mean a - mean b||^2) or "paired" (for batches whose rows are pairs, row i of y the partner of row i of x_t,
	// e.g. the same image and noise at two levels: the U-statistic over i != j of <d_i, d_j>, d_i = b_i - a_i,
	// per group (||sum d||^2 - sum ||d_i||^2) / (m(m-1)); unbiased for pairs, with a variance that falls as the
	// partners grow alike).
	MMD string `json:"mmd,omitempty"`
	// L2 is the l2 term F_l2, with f(z) = <phi(z), c>, c = mean b - mean a: "witness" (mean of f^2 over both
	// batches; also when empty), "set-means" (((mean_i f(a_i))^2 + (mean_j f(b_j))^2) / 2: the witness's offset
	// and scale, not its variance within a set) or "features" (mean of ||phi||^2 over both batches).
	L2 string `json:"l2,omitempty"`
	// Groups splits each batch of B into G equal groups of consecutive rows, each at its own level t_g with its
	// own MMD^2, c_g, witness, l2 term and gradient penalty; the loss is the mean over groups (RunLevels). 0 or 1:
	// one group, one level (Run, RunAt). NewTrainStep needs B a multiple of G and B/G >= 2.
	Groups int `json:"groups,omitempty"`
	// LevelWeights multiplies each group's terms by a weight w_g > 0 of its level, set before each run with
	// TrainStep.SetLevelWeights (1 until set): the loss is then sum_g w_g L_g / G, the level weighting lambda(t)
	// of diffusion training (Song et al. 2021, eq. 7). Needs Groups >= 2.
	LevelWeights bool `json:"level_weights,omitempty"`
}

// Choices for LossConfig.PenaltyAt, LossConfig.Penalty, LossConfig.MMD and LossConfig.L2.
const (
	PenaltyAtXT     = "xt"
	PenaltyAtInterp = "interp"

	MMDUnbiased = "unbiased"
	MMDBiased   = "biased"
	MMDPaired   = "paired"

	PenaltyGP   = "gp"
	PenaltyZero = "zero"

	L2Witness  = "witness"
	L2SetMeans = "set-means"
	L2Features = "features"
)

func (l LossConfig) interp() bool { return l.PenaltyAt == PenaltyAtInterp }

// groups is the number of groups, 1 for the zero value.
func (l LossConfig) groups() int { return max(l.Groups, 1) }

// DefaultLoss is the measured default of ../shared/notes/dmmd.md: lambda_l2 = 0.1, lambda_grad = 10 (with the
// unbiased MMD^2, the witness l2 term and one group).
func DefaultLoss() LossConfig {
	return LossConfig{LambdaL2: 0.1, LambdaGrad: 10, PenaltyAt: PenaltyAtXT}
}

// maxGroups bounds LossConfig.Groups (a batch per side is far smaller in practice).
const maxGroups = 1 << 16

// Validate rejects negative or non-finite weights, unknown selectors and a negative group count. Whether the
// groups divide the batch is checked by NewTrainStep.
func (l LossConfig) Validate() error {
	if l.PenaltyAt != "" && l.PenaltyAt != PenaltyAtXT && l.PenaltyAt != PenaltyAtInterp {
		return fmt.Errorf("%w: penalty points %q (want xt or interp)", ErrConfig, l.PenaltyAt)
	}
	if l.MMD != "" && l.MMD != MMDUnbiased && l.MMD != MMDBiased && l.MMD != MMDPaired {
		return fmt.Errorf("%w: mmd estimator %q (want unbiased, biased or paired)", ErrConfig, l.MMD)
	}
	if l.Penalty != "" && l.Penalty != PenaltyGP && l.Penalty != PenaltyZero {
		return fmt.Errorf("%w: penalty %q (want gp or zero)", ErrConfig, l.Penalty)
	}
	if l.L2 != "" && l.L2 != L2Witness && l.L2 != L2SetMeans && l.L2 != L2Features {
		return fmt.Errorf("%w: l2 term %q (want witness, set-means or features)", ErrConfig, l.L2)
	}
	if l.Groups < 0 || l.Groups > maxGroups {
		return fmt.Errorf("%w: groups %d outside [0, %d]", ErrConfig, l.Groups, maxGroups)
	}
	if l.LevelWeights && l.groups() < 2 {
		return fmt.Errorf("%w: level weights need groups >= 2 (one level per group), got %d", ErrConfig, l.Groups)
	}
	for _, v := range []float64{l.LambdaL2, l.LambdaGrad} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: loss weights must be finite and >= 0, got lambda_l2 %v, lambda_grad %v",
				ErrConfig, l.LambdaL2, l.LambdaGrad)
		}
	}
	return nil
}

// Stats are the loss and its parts for one step, as float64; with groups, each is the mean over the groups (of
// the weighted per-group terms with LevelWeights; GradNorm is never weighted).
type Stats struct {
	Loss        float64 `json:"loss"`         // -MMD2 + LambdaL2 L2 + LambdaGrad GradPenalty
	MMD2        float64 `json:"mmd2"`         // the linear-kernel MMD^2 estimate (LossConfig.MMD) between phi(x_t) and phi(y)
	L2          float64 `json:"l2"`           // the l2 term F_l2 (LossConfig.L2)
	GradPenalty float64 `json:"grad_penalty"` // F_grad (LossConfig.Penalty) at the penalty points
	GradNorm    float64 `json:"grad_norm"`    // mean of ||grad_z f_t|| at the penalty points
}

// gradNormEps keeps sqrt differentiable should a witness gradient vanish exactly.
const gradNormEps = 1e-12
