package model

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossConfig weighs and selects the terms of the DMMD critic loss -MMD^2 + LambdaL2 F_l2 + LambdaGrad F_grad (see
// the package documentation for the formulas). It is recorded in checkpoints; the zero value of every selector
// (MMD, L2, PenaltyAt, Groups) is the original loss, so configurations written before a selector existed load
// unchanged.
type LossConfig struct {
	LambdaL2   float64 `json:"lambda_l2"`   // weight of F_l2 (see L2)
	LambdaGrad float64 `json:"lambda_grad"` // weight of F_grad = mean_i (||grad_z f_t(z_i)|| - 1)^2
	// PenaltyAt is where F_grad reads the witness gradient: "xt" (the noisy points, the seed's choice; also
	// when empty) or "interp" (points z_i = u_i x_t^i + (1 - u_i) y^i on the segments between the two batches,
	// as in WGAN-GP; the caller draws them and passes them to RunAt or RunLevels).
	PenaltyAt string `json:"penalty_at,omitempty"`
	// MMD is the MMD^2 estimator: "unbiased" (the U-statistic; also when empty) or "biased" (the V-statistic
	// ||mean a - mean b||^2).
	MMD string `json:"mmd,omitempty"`
	// L2 is the l2 term F_l2, with f(z) = <phi(z), c>, c = mean b - mean a: "witness" (mean of f^2 over both
	// batches; also when empty), "set-means" (((mean_i f(a_i))^2 + (mean_j f(b_j))^2) / 2: the witness's offset
	// and scale, not its variance within a set) or "features" (mean of ||phi||^2 over both batches).
	L2 string `json:"l2,omitempty"`
	// Groups splits each batch of B into G equal groups of consecutive rows, each at its own level t_g with its
	// own MMD^2, c_g, witness, l2 term and gradient penalty; the loss is the mean over groups (RunLevels). 0 or 1:
	// one group, one level (Run, RunAt). NewTrainStep needs B a multiple of G and B/G >= 2.
	Groups int `json:"groups,omitempty"`
}

// Choices for LossConfig.PenaltyAt, LossConfig.MMD and LossConfig.L2.
const (
	PenaltyAtXT     = "xt"
	PenaltyAtInterp = "interp"

	MMDUnbiased = "unbiased"
	MMDBiased   = "biased"

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
	if l.MMD != "" && l.MMD != MMDUnbiased && l.MMD != MMDBiased {
		return fmt.Errorf("%w: mmd estimator %q (want unbiased or biased)", ErrConfig, l.MMD)
	}
	if l.L2 != "" && l.L2 != L2Witness && l.L2 != L2SetMeans && l.L2 != L2Features {
		return fmt.Errorf("%w: l2 term %q (want witness, set-means or features)", ErrConfig, l.L2)
	}
	if l.Groups < 0 || l.Groups > maxGroups {
		return fmt.Errorf("%w: groups %d outside [0, %d]", ErrConfig, l.Groups, maxGroups)
	}
	for _, v := range []float64{l.LambdaL2, l.LambdaGrad} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: loss weights must be finite and >= 0, got lambda_l2 %v, lambda_grad %v",
				ErrConfig, l.LambdaL2, l.LambdaGrad)
		}
	}
	return nil
}

// Stats are the loss and its parts for one step, as float64; with groups, each is the mean over the groups.
type Stats struct {
	Loss        float64 `json:"loss"`         // -MMD2 + LambdaL2 L2 + LambdaGrad GradPenalty
	MMD2        float64 `json:"mmd2"`         // the linear-kernel MMD^2 estimate (LossConfig.MMD) between phi(x_t) and phi(y)
	L2          float64 `json:"l2"`           // the l2 term F_l2 (LossConfig.L2)
	GradPenalty float64 `json:"grad_penalty"` // mean of (||grad_z f_t|| - 1)^2 at the penalty points
	GradNorm    float64 `json:"grad_norm"`    // mean of ||grad_z f_t|| at the penalty points
}

// gradNormEps keeps sqrt differentiable should a witness gradient vanish exactly.
const gradNormEps = 1e-12

// TrainStep computes the DMMD critic loss and its exact gradient with respect to every parameter for one pair of
// batches, at one level t or, with LossConfig.Groups = G > 1, at one level per group. The gradient penalty
// differentiates through an explicit input-VJP (see the package documentation), so the parameter gradient needs a
// single reverse pass.
type TrainStep struct {
	*compiled
	lc      LossConfig
	groups  int
	x, y, z *tensor.Dense // z: the penalty points (PenaltyAt interp only)
	grads   *Params
	outs    [5]*G.Value // loss, mmd2, l2, penalty, grad norm: boxes of their own (see compiled)
}

// NewTrainStep compiles the loss and gradient graph for p with the given batch size per side: at least 2 per
// group, and a multiple of the group count.
func NewTrainStep(p *Params, batch int, lc LossConfig) (*TrainStep, error) {
	if batch < 2 {
		return nil, fmt.Errorf("model: TrainStep needs a batch of at least 2 for the unbiased MMD, got %d", batch)
	}
	if err := lc.Validate(); err != nil {
		return nil, err
	}
	groups := lc.groups()
	if batch%groups != 0 || batch/groups < 2 {
		return nil, fmt.Errorf("%w: a batch of %d does not split into %d groups of at least 2", ErrConfig, batch, groups)
	}
	c, err := newCompiled(p, batch)
	if err != nil {
		return nil, err
	}
	c.levels = groups
	s := &TrainStep{compiled: c, lc: lc, groups: groups}
	if s.grads, err = NewParams(p.cfg); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		return nil, fmt.Errorf("model: building the training graph: %w", err)
	}
	return s, c.compile()
}

// Groups is the number of groups (levels) per step: 1 unless LossConfig.Groups > 1.
func (s *TrainStep) Groups() int { return s.groups }

func (s *TrainStep) build() (err error) {
	b, cfg := s.b, s.cfg
	// n rows per side, gn groups of m rows. Every term below is the mean over groups of the per-group term; with
	// one group the graph is exactly the original one (same ops, same constants), so its results are bit for bit
	// those of before the groups existed (TestTrainStepGolden).
	groups := s.groups
	n, gn, m := float64(s.batch), float64(groups), float64(s.batch/groups)
	e := &ops.Chain{}
	defer e.Guard(&err)
	var x, y *G.Node
	x, s.x = b.input("x_t", s.batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	y, s.y = b.input("y", s.batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
	ts, err := s.timeInput()
	if err != nil {
		return err
	}
	fa, tr, err := b.forward(x, ts) // features of the noisy batch
	if err != nil {
		return err
	}
	fb, _, err := b.forward(y, ts) // features of the clean batch
	if err != nil {
		return err
	}
	// sa, sb: (G, D), row g the sum of group g's features.
	sa, sb := e.Op(ops.SumGroups(fa, groups)), e.Op(ops.SumGroups(fb, groups))
	// dot(u, v) = sum_g <u_g, v_g> over the rows of two (G, D) matrices; sq(u) = the sum of all squares.
	dot := func(u, v *G.Node) *G.Node {
		if groups == 1 {
			return e.Op(G.Sum(e.Op(ops.MatMul(u, v, false, true))))
		}
		return e.Op(G.Sum(e.Op(ops.Hadamard(u, v))))
	}
	sq := func(u *G.Node) *G.Node { return e.Op(G.Sum(e.Op(G.Square(u)))) }
	// perGroup scales a sum over groups to the mean over groups (nothing to do for one group).
	perGroup := func(v *G.Node) *G.Node {
		if groups == 1 {
			return v
		}
		return e.Op(G.Mul(v, b.constant(1/gn)))
	}
	// The nodes are created in the original order: Gorgonia sums the gradient contributions to a node in an order
	// that follows the graph's construction, so reordering would change the last bits of the gradient.
	var mmd2 *G.Node
	if s.lc.MMD != MMDBiased {
		// Unbiased MMD^2 in O(BD), per group:
		// (||sum a||^2 - sum ||a_i||^2 + ||sum b||^2 - sum ||b_j||^2) / (m(m-1)) - 2 <sum a, sum b> / m^2.
		within := e.Op(G.Add(e.Op(G.Sub(dot(sa, sa), sq(fa))), e.Op(G.Sub(dot(sb, sb), sq(fb)))))
		mmd2 = e.Op(G.Sub(e.Op(G.Mul(within, b.constant(1/(gn*m*(m-1))))), e.Op(G.Mul(dot(sa, sb), b.constant(2/(gn*m*m))))))
	}
	// Witness directions c_g = mean b_g - mean a_g, (G, D); f_g(z) = <phi(z), c_g>.
	cdir := e.Op(G.Mul(e.Op(G.Sub(sb, sa)), b.constant(1/m)))
	if s.lc.MMD == MMDBiased {
		// ||mean a_g - mean b_g||^2 = ||c_g||^2.
		mmd2 = perGroup(sq(cdir))
	}
	// witness returns <u_r, c_g(r)> for each row r of u: (rows, 1) with one group, (rows) with several; u has the
	// batch's rows (group g(r) = r / m) or one row per group.
	var cRows *G.Node // c_g repeated to the batch's rows
	witness := func(u *G.Node) *G.Node {
		if groups == 1 {
			return e.Op(ops.MatMul(u, cdir, false, true))
		}
		c := cdir
		if u.Shape()[0] != groups {
			if cRows == nil {
				cRows = e.Op(ops.BroadcastRows(cdir, s.batch))
			}
			c = cRows
		}
		return e.Op(G.Sum(e.Op(ops.Hadamard(u, c)), 1))
	}
	var l2 *G.Node
	switch s.lc.L2 {
	case L2SetMeans:
		// mean_i f_g(a_i) = <sum a_g, c_g> / m: per group ((.)^2 + (.)^2) / 2, then the mean over groups.
		l2 = e.Op(G.Mul(e.Op(G.Add(sq(witness(sa)), sq(witness(sb)))), b.constant(1/(2*gn*m*m))))
	case L2Features:
		l2 = e.Op(G.Mul(e.Op(G.Add(sq(fa), sq(fb))), b.constant(1/(2*n))))
	default:
		// The mean of f^2 over both batches; equal groups make the mean over groups the mean over all rows.
		l2 = e.Op(G.Mul(e.Op(G.Add(sq(witness(fa)), sq(witness(fb)))), b.constant(1/(2*n))))
	}
	// grad_z f_g at the penalty points: the input-VJP seeded, row by row, with its group's c_g.
	v := e.Op(b.seed(cdir))
	gflat := e.Op(ops.BroadcastRows(v, s.batch))
	if e.Err != nil {
		return e.Err
	}
	if s.lc.interp() {
		// The penalty reads the gradient at separate points: one more forward pass there, then the VJP.
		var z *G.Node
		z, s.z = b.input("z", s.batch, cfg.Channels, cfg.ImageSize, cfg.ImageSize)
		if _, tr, err = b.forward(z, ts); err != nil {
			return err
		}
	}
	gz, err := b.inputVJP(tr, gflat)
	if err != nil {
		return err
	}
	// Equal groups: the mean over groups of the per-group means is the mean over all points.
	gzFlat := e.Op(G.Reshape(gz, tensor.Shape{s.batch, cfg.InputSize()}))
	norms := e.Op(G.Sqrt(e.Op(G.Add(e.Op(G.Sum(e.Op(G.Square(gzFlat)), 1)), b.constant(gradNormEps)))))
	pen := e.Op(G.Mean(e.Op(G.Square(e.Op(G.Sub(norms, b.constant(1)))))))
	gnorm := e.Op(G.Mean(norms))
	loss := e.Op(G.Sub(e.Op(G.Add(e.Op(G.Mul(l2, b.constant(s.lc.LambdaL2))), e.Op(G.Mul(pen, b.constant(s.lc.LambdaGrad))))), mmd2))
	if e.Err != nil {
		return e.Err
	}
	grads, err := G.Grad(loss, b.params...)
	if err != nil {
		return fmt.Errorf("model: differentiating the loss: %w", err)
	}
	for i, gn := range grads {
		s.read(gn, s.grads.tensors[i])
	}
	for i, n := range []*G.Node{loss, mmd2, l2, pen, gnorm} {
		s.outs[i] = s.read(n, nil)
	}
	return nil
}

// Run computes the loss at level t for the noisy batch xt and the clean batch y (each Batch*InputSize values),
// leaving the gradient in Grads. With PenaltyAt interp use RunAt; with groups, RunLevels.
func (s *TrainStep) Run(xt, y []float32, t float64) (Stats, error) {
	if s.lc.interp() {
		return Stats{}, fmt.Errorf("model: TrainStep: the penalty is at interpolates: call RunAt with the points")
	}
	if err := s.oneLevel(); err != nil {
		return Stats{}, err
	}
	return s.run3(xt, y, nil, t)
}

// RunAt is Run with the gradient penalty read at the points z (PenaltyAt interp), typically
// z_i = u_i x_t^i + (1 - u_i) y^i with u_i ~ U[0, 1].
func (s *TrainStep) RunAt(xt, y, z []float32, t float64) (Stats, error) {
	if !s.lc.interp() {
		return Stats{}, fmt.Errorf("model: TrainStep: penalty points given, but the penalty is at x_t")
	}
	if err := s.oneLevel(); err != nil {
		return Stats{}, err
	}
	return s.run3(xt, y, z, t)
}

func (s *TrainStep) oneLevel() error {
	if s.groups != 1 {
		return fmt.Errorf("model: TrainStep: %d groups need one level each: call RunLevels", s.groups)
	}
	return nil
}

// RunLevels computes the loss with group g at level ts[g] (len(ts) = Groups): group g is the rows
// g*Batch/G .. (g+1)*Batch/G - 1 of the noisy batch xt, of the clean batch y and, with PenaltyAt interp, of the
// penalty points z (nil otherwise); each holds Batch*InputSize values. With one group it equals Run (or RunAt) at
// ts[0], bit for bit.
func (s *TrainStep) RunLevels(xt, y, z []float32, ts []float64) (Stats, error) {
	if len(ts) != s.groups {
		return Stats{}, fmt.Errorf("model: TrainStep: %d levels for %d groups", len(ts), s.groups)
	}
	switch {
	case s.lc.interp() && z == nil:
		return Stats{}, fmt.Errorf("model: TrainStep: the penalty is at interpolates, but no points were given")
	case !s.lc.interp() && z != nil:
		return Stats{}, fmt.Errorf("model: TrainStep: penalty points given, but the penalty is at x_t")
	}
	if err := s.setInputs(xt, y, z); err != nil {
		return Stats{}, err
	}
	for _, t := range ts {
		if err := checkLevel(t); err != nil {
			return Stats{}, err
		}
	}
	return s.runStats(ts)
}

func (s *TrainStep) run3(xt, y, z []float32, t float64) (Stats, error) {
	if err := s.setInputs(xt, y, z); err != nil {
		return Stats{}, err
	}
	if err := checkLevel(t); err != nil {
		return Stats{}, err
	}
	s.one[0] = t
	return s.runStats(s.one[:])
}

func (s *TrainStep) setInputs(xt, y, z []float32) error {
	want := s.batch * s.cfg.InputSize()
	if len(xt) != want || len(y) != want || (s.z != nil && len(z) != want) {
		return fmt.Errorf("model: TrainStep: got %d noisy, %d clean and %d penalty-point values, want %d each",
			len(xt), len(y), len(z), want)
	}
	setImages(s.x, xt, s.cfg.InputSize())
	setImages(s.y, y, s.cfg.InputSize())
	if s.z != nil {
		setImages(s.z, z, s.cfg.InputSize())
	}
	return nil
}

func (s *TrainStep) runStats(ts []float64) (Stats, error) {
	if err := s.runLevels(ts); err != nil {
		return Stats{}, err
	}
	var v [5]float64
	for i, o := range s.outs {
		switch o := (*o).(type) {
		case *G.F32:
			v[i] = float64(*o)
		case *G.F64:
			v[i] = float64(*o)
		default:
			return Stats{}, fmt.Errorf("model: TrainStep: unexpected output type %T", o)
		}
	}
	return Stats{Loss: v[0], MMD2: v[1], L2: v[2], GradPenalty: v[3], GradNorm: v[4]}, nil
}

// Grads holds the gradient of the last Run with respect to every parameter, in the parameters' layout.
func (s *TrainStep) Grads() *Params { return s.grads }
