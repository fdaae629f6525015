package model

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

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
	weights []*tensor.Dense // the level-weight inputs (LossConfig.LevelWeights): (G, D), (B, D), (G), (B)
	outs    [5]*G.Value     // loss, mmd2, l2, penalty, grad norm: boxes of their own (see compiled)
	// parts are the replicas of NewTrainStepReplicas (nil for one graph): then this step has no graph of its
	// own, and runs, level weights and Close go to the parts.
	parts []*TrainStep
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
	// The terms are built in the original order (see lossTerms).
	l := newLossTerms(b, e, s.batch, s.groups, fa, fb)
	if s.lc.LevelWeights {
		s.weights = l.levelWeights(cfg.FeatureDim)
		if err := s.SetLevelWeights(nil); err != nil {
			return err
		}
	}
	var mmd2 *G.Node
	switch s.lc.MMD {
	case MMDBiased: // after the directions, below
	case MMDPaired:
		mmd2 = l.pairedMMD2()
	default:
		mmd2 = l.unbiasedMMD2()
	}
	l.setDirections()
	if s.lc.MMD == MMDBiased {
		// ||mean a_g - mean b_g||^2 = ||c_g||^2.
		mmd2 = l.perGroup(l.sq(l.cdir))
	}
	l2 := l.l2(s.lc.L2)
	// grad_z f_g at the penalty points: the input-VJP seeded, row by row, with its group's c_g.
	gflat := e.Op(ops.BroadcastRows(e.Op(b.seed(l.cdir)), s.batch))
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
	pen, gnorm := l.penalty(gz, cfg.InputSize(), s.lc.Penalty)
	loss := l.loss(mmd2, l2, pen, s.lc)
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
	if err := s.checkInputs(xt, y, z); err != nil {
		return Stats{}, err
	}
	for _, t := range ts {
		if err := checkLevel(t); err != nil {
			return Stats{}, err
		}
	}
	if s.parts != nil {
		return s.runParts(xt, y, z, ts)
	}
	if err := s.setInputs(xt, y, z); err != nil {
		return Stats{}, err
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

// checkInputs checks the lengths of a run's inputs (z: the penalty points, nil unless PenaltyAt interp).
func (s *TrainStep) checkInputs(xt, y, z []float32) error {
	want := s.batch * s.cfg.InputSize()
	if len(xt) != want || len(y) != want || (s.lc.interp() && len(z) != want) {
		return fmt.Errorf("model: TrainStep: got %d noisy, %d clean and %d penalty-point values, want %d each",
			len(xt), len(y), len(z), want)
	}
	return nil
}

func (s *TrainStep) setInputs(xt, y, z []float32) error {
	if err := s.checkInputs(xt, y, z); err != nil {
		return err
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

// SetLevelWeights sets the level weights w_g of the following runs (LossConfig.LevelWeights): one per group,
// finite and > 0; nil sets every weight to 1.
func (s *TrainStep) SetLevelWeights(w []float64) error {
	if !s.lc.LevelWeights {
		return fmt.Errorf("%w: TrainStep: level weights given, but the loss has none (LossConfig.LevelWeights)", ErrConfig)
	}
	if w != nil && len(w) != s.groups {
		return fmt.Errorf("%w: TrainStep: %d level weights for %d groups", ErrConfig, len(w), s.groups)
	}
	for _, v := range w {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: TrainStep: level weight %v must be finite and > 0", ErrConfig, v)
		}
	}
	if s.parts != nil {
		gp := s.groups / len(s.parts)
		for i, q := range s.parts {
			var wi []float64
			if w != nil {
				wi = w[i*gp : (i+1)*gp]
			}
			if err := q.SetLevelWeights(wi); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range s.weights {
		// Each tensor has one row per group or per batch row (a group's m consecutive rows), so each group owns
		// an equal run of consecutive values.
		perGroup := d.Shape().TotalSize() / s.groups
		switch x := d.Data().(type) {
		case []float32:
			fillGroups(x, perGroup, w)
		case []float64:
			fillGroups(x, perGroup, w)
		}
	}
	return nil
}

// fillGroups sets the values of x, perGroup consecutive ones per group, to their group's weight in w (1 for nil).
func fillGroups[T float32 | float64](x []T, perGroup int, w []float64) {
	for i := range x {
		v := 1.0
		if w != nil {
			v = w[i/perGroup]
		}
		x[i] = T(v)
	}
}

// Close releases the step's graphs (its replicas' with NewTrainStepReplicas); later runs return an error.
// Closing twice is harmless.
func (s *TrainStep) Close() error {
	var first error
	for _, q := range s.parts {
		if err := q.Close(); err != nil && first == nil {
			first = err
		}
	}
	if err := s.compiled.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// Grads holds the gradient of the last Run with respect to every parameter, in the parameters' layout.
func (s *TrainStep) Grads() *Params { return s.grads }
