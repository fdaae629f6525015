package train

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// DefaultDiagN is the default number of images per set of the critic diagnostics (-diag-n).
const DefaultDiagN = 256

// DiagLevels returns the default noise levels t of the critic diagnostics: from nearly clean to pure noise.
func DiagLevels() []float64 { return []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0} }

// DiagOptions configure DiagnoseCritic. The zero value gives the defaults.
type DiagOptions struct {
	N      int       // images per set: n clean reference images and n other clean images x0 (default DefaultDiagN)
	Levels []float64 // noise levels t in [0, 1] (default DiagLevels())
	Seed   uint64    // seed of the choice of the 2n images and of the forward noise (default 0)
	Chunk  int       // images per network call (default 16; memory only, the results do not depend on it)

	// RefLevel, when set, gives for each level t the level s in [0, 1] of the reference set: the n reference
	// images are then forward-noised to x_s = alpha_s y + beta_s eps' (eps' fixed by Seed, independent of the
	// noise of x_t), for objectives that compare P_t with P_s rather than with clean data. nil means s = 0: the
	// reference set is the clean images y, as the training objective uses. Features are always phi(.; t).
	RefLevel func(t float64) float64
}

// LevelDiag are the critic diagnostics at one level t. The reference set R (clean images y unless
// DiagOptions.RefLevel says otherwise) has features b_j = phi(r_j; t), the noisy set X has a_i = phi(x_t^i; t),
// i, j = 1..n, with x_t^i = alpha_t x0^i + beta_t eps^i. With c = mean b - mean a the witness is
// f(z) = <phi(z; t), c>. Standard deviations and covariances divide by n - 1.
type LevelDiag struct {
	T    float64 `json:"t"`     // the noise level of X and of the features phi(.; t)
	RefT float64 `json:"ref_t"` // the level s of the reference set (0: clean images)

	// MMD2 is the unbiased linear-kernel estimate
	// (||sum a||^2 - sum ||a_i||^2 + ||sum b||^2 - sum ||b_j||^2) / (n(n-1)) - 2 <sum a, sum b> / n^2, as in the
	// training loss; MMD2Biased is the V-statistic ||c||^2; CNorm is ||c||.
	MMD2       float64 `json:"mmd2"`
	MMD2Biased float64 `json:"mmd2_biased"`
	CNorm      float64 `json:"c_norm"`

	// The witness f on each set: mean and standard deviation of f(r_j) and of f(x_t^i).
	WitnessRefMean   float64 `json:"witness_ref_mean"`
	WitnessRefStd    float64 `json:"witness_ref_std"`
	WitnessNoisyMean float64 `json:"witness_noisy_mean"`
	WitnessNoisyStd  float64 `json:"witness_noisy_std"`

	// The participation ratio (effective rank) (sum_k lambda_k)^2 / sum_k lambda_k^2 = tr(C)^2 / tr(C^2) of the
	// covariance C of each set's features: 1 when they vary along one direction, D when evenly along all D.
	// 0 when the features do not vary at all.
	PRRef   float64 `json:"pr_ref"`
	PRNoisy float64 `json:"pr_noisy"`

	// VarAlongC is the fraction of the reference features' variance along u = c/||c||:
	// Var_j <b_j, u> / tr Cov(b), in [0, 1] (0 when c = 0 or the features do not vary). WitnessRefStd is
	// ||c|| sqrt(VarAlongC tr Cov(b)).
	VarAlongC float64 `json:"var_along_c"`

	// GradCos is the mean over i of the cosine between g_i = grad_z f(x_t^i) and x0^i - x_t^i, the direction from
	// the noisy image to its own clean image (a zero vector counts as cosine 0); GradNorm is the mean ||g_i||
	// (per pixel value: inputs in [-1, 1]).
	GradCos  float64 `json:"grad_cos"`
	GradNorm float64 `json:"grad_norm"`

	// StepCos is the mean cosine between g_i and x_s^i - x_t^i, x_s^i = alpha_s x0^i + beta_s eps^i the same image
	// with the same noise at the reference level s = RefT: the step a -ref-ratio critic's witness is trained to point
	// along (with -mmd paired, exactly the pairs' displacement). Equal to GradCos when s = 0.
	StepCos float64 `json:"step_cos"`
}

// CriticDiag are the critic diagnostics of one set of weights: one record per level. In a run directory it is one
// line of diagnostics.jsonl.
type CriticDiag struct {
	Step    int64       `json:"step"`     // the checkpoint's training step (set by the caller; DiagnoseCritic leaves 0)
	N       int         `json:"n"`        // images per set
	Seed    uint64      `json:"seed"`     // DiagOptions.Seed
	HeldOut bool        `json:"held_out"` // the images are a test split (set by the caller; see OpenHeldOut)
	Levels  []LevelDiag `json:"levels"`
}

// DiagnoseCritic describes what the critic with weights p (use the EMA weights, as the sampler does) has learned,
// at each level of opt.Levels, on images of ds (which must have p's image shape): 2n images are chosen from ds by
// a permutation drawn from opt.Seed, the first n are the reference set, the other n are forward-noised with the
// schedule to x_t, with noise drawn from opt.Seed once and reused at every level. The same data, seed and options
// give the same images and noise, so two checkpoints are compared like with like. Statistics are computed in
// float64 from the network's features; see LevelDiag for each one.
//
// It builds a feature graph and a witness-gradient graph of opt.Chunk images and closes both before returning.
// Per level it costs 2n forward passes and n forward-and-input-VJP passes (see README.md for the time), plus
// O(n^2 D) for the participation ratios.
func DiagnoseCritic(p *model.Params, ds data.Dataset, sched diffusion.Schedule, opt DiagOptions) (*CriticDiag, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg := p.Config()
	n := opt.N
	if s := ds.Shape(); s.C != cfg.Channels || s.H != cfg.ImageSize || s.W != cfg.ImageSize {
		return nil, fmt.Errorf("train: DiagnoseCritic: the images are %v, the model takes %dx%dx%d", s,
			cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	}
	if 2*n > ds.Len() {
		return nil, fmt.Errorf("train: DiagnoseCritic: %d images, need 2n = %d", ds.Len(), 2*n)
	}
	return diagnose(p, sched, opt, diagImages(ds, n, opt.Seed))
}

// diagnose computes the diagnostics of p on the images and noise of set, with opt's defaults applied.
func diagnose(p *model.Params, sched diffusion.Schedule, opt DiagOptions, set diagSet) (*CriticDiag, error) {
	cfg := p.Config()
	n, size, d := opt.N, cfg.InputSize(), cfg.FeatureDim
	y, x0, eps := set.y, set.x0, set.eps
	feat, err := model.NewFeatures(p, opt.Chunk)
	if err != nil {
		return nil, fmt.Errorf("train: DiagnoseCritic: %w", err)
	}
	defer feat.Close()
	wit, err := model.NewWitness(p, opt.Chunk)
	if err != nil {
		return nil, fmt.Errorf("train: DiagnoseCritic: %w", err)
	}
	defer wit.Close()

	out := &CriticDiag{N: n, Seed: opt.Seed}
	xt, ref := make([]float32, n*size), make([]float32, n*size)
	a32, b32 := make([]float32, n*d), make([]float32, n*d)
	a, b := make([]float64, n*d), make([]float64, n*d)
	c32, grad := make([]float32, d), make([]float32, n*size)
	for _, t := range opt.Levels {
		s := 0.0
		if opt.RefLevel != nil {
			s = opt.RefLevel(t)
		}
		if !(s >= 0 && s <= 1) {
			return nil, fmt.Errorf("train: DiagnoseCritic: RefLevel(%v) = %v outside [0, 1]", t, s)
		}
		if err := sched.Forward(xt, x0, eps, t); err != nil {
			return nil, fmt.Errorf("train: DiagnoseCritic: %w", err)
		}
		copy(ref, y)
		if s > 0 {
			if err := sched.Forward(ref, y, set.epsRef(), s); err != nil {
				return nil, fmt.Errorf("train: DiagnoseCritic: %w", err)
			}
		}
		for lo := 0; lo < n; lo += opt.Chunk {
			hi := min(lo+opt.Chunk, n)
			if err := feat.Run(xt[lo*size:hi*size], t, a32[lo*d:hi*d]); err != nil {
				return nil, fmt.Errorf("train: DiagnoseCritic: t = %v: %w", t, err)
			}
			if err := feat.Run(ref[lo*size:hi*size], t, b32[lo*d:hi*d]); err != nil {
				return nil, fmt.Errorf("train: DiagnoseCritic: t = %v: %w", t, err)
			}
		}
		widen(a, a32)
		widen(b, b32)
		lv, c, err := featureStats(a, b, n, d)
		if err != nil {
			return nil, fmt.Errorf("train: DiagnoseCritic: t = %v: %w", t, err)
		}
		lv.T, lv.RefT = t, s
		for k, v := range c {
			c32[k] = float32(v)
		}
		for lo := 0; lo < n; lo += opt.Chunk {
			hi := min(lo+opt.Chunk, n)
			if err := wit.Grad(xt[lo*size:hi*size], t, c32, grad[lo*size:hi*size]); err != nil {
				return nil, fmt.Errorf("train: DiagnoseCritic: t = %v: %w", t, err)
			}
		}
		lv.GradCos, lv.GradNorm = gradStats(grad, x0, xt, n, size)
		lv.StepCos = lv.GradCos
		if s > 0 {
			// The reference point of each noisy image: reuse ref, whose features are done.
			if err := sched.Forward(ref, x0, eps, s); err != nil {
				return nil, fmt.Errorf("train: DiagnoseCritic: %w", err)
			}
			lv.StepCos, _ = gradStats(grad, ref, xt, n, size)
		}
		out.Levels = append(out.Levels, lv)
	}
	return out, nil
}

func (o DiagOptions) withDefaults() (DiagOptions, error) {
	if o.N == 0 {
		o.N = DefaultDiagN
	}
	if o.Levels == nil {
		o.Levels = DiagLevels()
	}
	if o.Chunk == 0 {
		o.Chunk = 16
	}
	o.Chunk = min(o.Chunk, o.N)
	switch {
	case o.N < 2:
		return o, fmt.Errorf("train: DiagnoseCritic: n = %d images per set; need at least 2", o.N)
	case o.Chunk < 1:
		return o, fmt.Errorf("train: DiagnoseCritic: chunk %d must be positive", o.Chunk)
	case len(o.Levels) == 0:
		return o, fmt.Errorf("train: DiagnoseCritic: no levels")
	}
	for _, t := range o.Levels {
		if !(t >= 0 && t <= 1) {
			return o, fmt.Errorf("train: DiagnoseCritic: level %v outside [0, 1]", t)
		}
	}
	o.Levels = slices.Clone(o.Levels)
	return o, nil
}

// diagSet are the images and noise of the diagnostics: n reference images y, n other images x0, the noise eps
// of x_t, and a function returning the reference set's noise eps' (n*InputSize values each).
type diagSet struct {
	y, x0, eps []float32
	epsRef     func() []float32
}

// diagImages chooses the diagnostics' images and noise from seed: y and x0 from a seeded permutation of ds, eps
// and eps' from streams of their own (eps' drawn on first use, so the other draws do not depend on whether it is
// used).
func diagImages(ds data.Dataset, n int, seed uint64) diagSet {
	size := ds.Shape().Size()
	perm := rand.New(rand.NewPCG(seed, 0x64696167)).Perm(ds.Len()) // "diag"
	s := diagSet{y: make([]float32, n*size), x0: make([]float32, n*size)}
	for i := range n {
		ds.Image(perm[i], s.y[i*size:(i+1)*size])
		ds.Image(perm[n+i], s.x0[i*size:(i+1)*size])
	}
	normal := func(stream uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, stream))
		v := make([]float32, n*size)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	s.eps = normal(1)
	var ref []float32
	s.epsRef = func() []float32 {
		if ref == nil {
			ref = normal(2)
		}
		return ref
	}
	return s
}

func widen(dst []float64, src []float32) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}
