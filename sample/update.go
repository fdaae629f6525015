package sample

import (
	"fmt"
	"math"
	"strings"
)

// Update is how a flow step moves the particles along the witness gradient.
type Update int

const (
	// Euler is the paper's plain gradient step, z <- z + eta_k g, with eta_k from Eta and EtaSchedule and, with
	// EtaNorm, divided by the flow group's mean per-particle gradient norm.
	Euler Update = iota
	// DDIM is the VP-consistent witness-direction step (research note, issue 10), made for critics trained against
	// a reference level (train.Config.RefRatio), though it works for rho = 0 too. It uses only the direction of
	// the witness gradient and takes the step's length from the VP schedule; see the package documentation for the
	// formula. Eta scales the length (DefaultDDIMEta, 1.3, by default: DefaultOptionsFor); EtaSchedule and EtaNorm do not apply.
	DDIM
)

// DefaultUpdate is the update for a critic trained against the clean data (reference ratio 0, the paper's
// objective). DefaultOptions itself always gives Euler; UpdateFor gives the default for any critic.
const DefaultUpdate = Euler

// UpdateFor returns the default update for a critic trained at reference ratio refRatio (train.Config.RefRatio):
// DDIM for refRatio > 0, Euler (DefaultUpdate) otherwise. cmd/sample's -update and the trainer's preview grids
// (PreviewDefaultsFor) take it when not told otherwise. The evidence (MNIST, small preset, 2,000 steps, fdscore on
// 1,000 samples) is in README.md's sample-quality section: a -ref-ratio 0.8 critic scores far better with DDIM than
// with Euler, and Euler stays the better choice for the paper's critics.
func UpdateFor(refRatio float64) Update {
	if refRatio > 0 {
		return DDIM
	}
	return DefaultUpdate
}

// DefaultDDIMEta is Eta for the DDIM update: the step length is 1.3 times the schedule's expected distance to the
// reference point. Measured on MNIST's default recipe at 2,000 steps (fdscore fd_cls on 1,000 samples, docs/quality.md):
// eta 0.7 / 1 / 1.3 / 1.6 / 2 gave 411 / 189 / 163 / 193 / 165 for seed 0, and 1 / 1.3 gave 203 / 178 for seed 1.
const DefaultDDIMEta = 1.3

// DefaultDDIMEtaZero is Eta for the DDIM update of a critic trained with the zero-centred gradient penalty (train's
// -penalty zero, model.PenaltyZero), whose gradient follows the step to the reference level more closely: MNIST's
// recipe at 2,000 steps (docs/quality.md) scored 132 and 123 (two sampler seeds) at eta 1 against 141 and 133 at
// 1.3 for seed 0, 124 against 140 for seed 1; an oracle critic (the exact posterior of 2,000 training digits) 4.7
// at eta 1 against 12.8 at 1.3. A WGAN-GP critic keeps DefaultDDIMEta (its seed-0 checkpoint: 186 at eta 1).
const DefaultDDIMEtaZero = 1.0

// DDIMEtaFor returns the DDIM update's default Eta for a critic trained with the zero-centred gradient penalty
// (zeroCentred) or with WGAN-GP's: DefaultDDIMEtaZero or DefaultDDIMEta.
func DDIMEtaFor(zeroCentred bool) float64 {
	if zeroCentred {
		return DefaultDDIMEtaZero
	}
	return DefaultDDIMEta
}

// String returns the flag spelling of u.
func (u Update) String() string {
	switch u {
	case Euler:
		return "euler"
	case DDIM:
		return "ddim"
	}
	return fmt.Sprintf("Update(%d)", int(u))
}

// ParseUpdate parses "euler" or "ddim".
func ParseUpdate(s string) (Update, error) {
	switch strings.ToLower(s) {
	case "euler":
		return Euler, nil
	case "ddim":
		return DDIM, nil
	}
	return 0, fmt.Errorf("sample: unknown update %q (want euler or ddim)", s)
}

// MarshalText writes the flag spelling of u.
func (u Update) MarshalText() ([]byte, error) {
	if _, err := ParseUpdate(u.String()); err != nil {
		return nil, err
	}
	return []byte(u.String()), nil
}

// UnmarshalText reads any spelling ParseUpdate accepts.
func (u *Update) UnmarshalText(b []byte) error {
	v, err := ParseUpdate(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// ddimSpan returns the ends a > b of DDIM sub-step s at level k: [t_{k+1}, t_k] (t_{T+1} = 0 after the last level)
// cut into N_s equal pieces, the last piece ending exactly at t_{k+1}.
func (f *Flow) ddimSpan(k, s int) (a, b float64) {
	tk, next := f.levels[k], 0.0
	if k+1 < len(f.levels) {
		next = f.levels[k+1]
	}
	ns := float64(f.opt.StepsPerLevel)
	a, b = tk+(next-tk)*float64(s)/ns, next
	if s+1 < f.opt.StepsPerLevel {
		b = tk + (next-tk)*float64(s+1)/ns
	}
	return a, b
}

// pathAt returns (alpha_t, beta_t) on the flow's VP path, with (1, 0) at t = 0 (the clean data).
func (f *Flow) pathAt(t float64) (alpha, beta float64) {
	if t == 0 {
		return 1, 0
	}
	return f.opt.Schedule.AlphaBeta(t)
}

// ddimCoef are the coefficients of one DDIM sub-step from level a to level b, shared by every particle.
type ddimCoef struct {
	aa, ba float64 // alpha_a, beta_a
	ab, bb float64 // alpha_b, beta_b
	cu, cd float64 // yhat = cu u + cd d
	length float64 // L
	sigma  float64 // the fresh noise's scale (DDIMNoise)
	ce     float64 // epshat's weight sqrt(beta_b^2 - sigma^2)
}

// ddimCoefs computes the sub-step's coefficients: with r = rho a,
// L = Eta sqrt(D ((alpha_r - alpha_a)^2 MeanSq + (beta_r - beta_a)^2)),
// det = alpha_a (beta_r - beta_a) - beta_a (alpha_r - alpha_a), and
// yhat = ((beta_r - beta_a) u - beta_a L d) / det.
func (f *Flow) ddimCoefs(a, b float64) ddimCoef {
	var c ddimCoef
	c.aa, c.ba = f.pathAt(a)
	c.ab, c.bb = f.pathAt(b)
	ar, br := f.pathAt(f.opt.RefRatio * a)
	da, db := ar-c.aa, br-c.ba
	c.length = f.opt.Eta * math.Sqrt(float64(f.dim)*(da*da*f.meanSq+db*db))
	// alpha_a (beta_r - beta_a) - beta_a (alpha_r - alpha_a), its alpha_a beta_a terms cancelled: exactly -beta_a
	// for r = 0, and then cu = 1 and cd = L exactly (yhat = u + L d).
	det := c.aa*br - c.ba*ar
	c.cu, c.cd = db/det, -c.ba/det*c.length
	c.ce = c.bb
	if nu := f.opt.DDIMNoise; nu > 0 && c.bb > 0 {
		c.sigma = nu * c.bb / c.ba * math.Sqrt(max(0, 1-(c.aa*c.aa)/(c.ab*c.ab)))
		c.sigma = min(c.sigma, c.bb)
		c.ce = math.Sqrt(c.bb*c.bb - c.sigma*c.sigma)
	}
	return c
}

// ddimStep moves every particle of the group by one DDIM sub-step (s of level k), with the gradients in f.g and
// their norms in f.norms: d = g/||g||, yhat = cu u + cd d (clamped to [-1, 1] with X0Clip),
// epshat = (u - alpha_a yhat)/beta_a, u <- alpha_b yhat + sqrt(beta_b^2 - sigma^2) epshat + sigma xi with
// sigma = DDIMNoise (beta_b/beta_a) sqrt(1 - alpha_a^2/alpha_b^2) (DDIM's eq. 16) and xi ~ N(0, I) from the particle's
// own stream (base+i, level, step). A particle whose gradient is exactly 0 has no direction: it takes d = 0 and no
// X0Clip, so it is only rescaled, u <- (alpha_b cu + beta_b (1 - alpha_a cu)/beta_a) u (plus sigma xi).
// With DDIMGradLen, d = g/mean instead (mean: the group's mean gradient norm), so that each particle's step length is
// L ||g|| / mean: for a critic whose gradient is proportional to the expected step (the zero-centred penalty,
// model.PenaltyZero), the relative lengths are the critic's own; the group keeps the schedule's mean length.
func (f *Flow) ddimStep(k, s int, base uint64, mean float64) {
	c := f.ddimCoefs(f.ddimSpan(k, s))
	dim := f.dim
	for i, norm := range f.norms {
		zi, gi := f.z[i*dim:(i+1)*dim], f.g[i*dim:(i+1)*dim]
		inv, clip := 0.0, f.opt.X0Clip
		if norm > 0 {
			inv = 1 / norm
			if f.opt.DDIMGradLen {
				inv = 1 / mean
			}
		} else {
			clip = false
		}
		for j, v := range zi {
			u := float64(v)
			y := c.cu*u + c.cd*float64(gi[j])*inv
			if clip {
				y = max(-1, min(1, y))
			}
			eps := (u - c.aa*y) / c.ba
			zi[j] = float32(c.ab*y + c.ce*eps)
		}
		if c.sigma > 0 {
			rng := f.st.at(f.opt.Seed, domainDDIM, (base+uint64(i))<<32|uint64(k*f.opt.StepsPerLevel+s))
			for j := range zi {
				zi[j] += float32(c.sigma * rng.NormFloat64())
			}
		}
	}
}
