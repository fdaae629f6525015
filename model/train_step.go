package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossConfig weighs the DMMD critic loss -MMD_u^2 + LambdaL2 F_l2 + LambdaGrad F_grad.
type LossConfig struct {
	LambdaL2   float64 `json:"lambda_l2"`   // weight of F_l2 = mean of f_t^2 over both batches
	LambdaGrad float64 `json:"lambda_grad"` // weight of F_grad = mean_i (||grad_z f_t(z_i)|| - 1)^2
	// PenaltyAt is where F_grad reads the witness gradient: "xt" (the noisy points, the seed's choice; also
	// when empty) or "interp" (points z_i = u_i x_t^i + (1 - u_i) y^i on the segments between the two batches,
	// as in WGAN-GP; the caller draws them and passes them to RunAt).
	PenaltyAt string `json:"penalty_at,omitempty"`
}

// Penalty point choices for LossConfig.PenaltyAt.
const (
	PenaltyAtXT     = "xt"
	PenaltyAtInterp = "interp"
)

func (l LossConfig) interp() bool { return l.PenaltyAt == PenaltyAtInterp }

// DefaultLoss is the measured default of ../shared/notes/dmmd.md: lambda_l2 = 0.1, lambda_grad = 10.
func DefaultLoss() LossConfig {
	return LossConfig{LambdaL2: 0.1, LambdaGrad: 10, PenaltyAt: PenaltyAtXT}
}

// Validate rejects negative or non-finite weights.
func (l LossConfig) Validate() error {
	if l.PenaltyAt != "" && l.PenaltyAt != PenaltyAtXT && l.PenaltyAt != PenaltyAtInterp {
		return fmt.Errorf("%w: penalty points %q (want xt or interp)", ErrConfig, l.PenaltyAt)
	}
	for _, v := range []float64{l.LambdaL2, l.LambdaGrad} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: loss weights must be finite and >= 0, got lambda_l2 %v, lambda_grad %v",
				ErrConfig, l.LambdaL2, l.LambdaGrad)
		}
	}
	return nil
}

// Stats are the loss and its parts for one step, as float64.
type Stats struct {
	Loss        float64 `json:"loss"`         // -MMD2 + LambdaL2 L2 + LambdaGrad GradPenalty
	MMD2        float64 `json:"mmd2"`         // unbiased linear-kernel MMD^2 between phi(x_t) and phi(y)
	L2          float64 `json:"l2"`           // mean of f_t^2 over both batches
	GradPenalty float64 `json:"grad_penalty"` // mean of (||grad_z f_t|| - 1)^2 at the penalty points
	GradNorm    float64 `json:"grad_norm"`    // mean of ||grad_z f_t|| at the penalty points
}

// gradNormEps keeps sqrt differentiable should a witness gradient vanish exactly.
const gradNormEps = 1e-12

// TrainStep computes the DMMD critic loss and its exact gradient with respect to every parameter for one pair of
// batches at one level t. The gradient penalty differentiates through an explicit input-VJP (see the package
// documentation), so the parameter gradient needs a single reverse pass.
type TrainStep struct {
	*compiled
	lc      LossConfig
	x, y, z *tensor.Dense // z: the penalty points (PenaltyAt interp only)
	grads   *Params
	outs    [5]*G.Value // loss, mmd2, l2, penalty, grad norm: boxes of their own (see compiled)
}

// NewTrainStep compiles the loss and gradient graph for p with the given batch size (per side; needs >= 2).
func NewTrainStep(p *Params, batch int, lc LossConfig) (*TrainStep, error) {
	if batch < 2 {
		return nil, fmt.Errorf("model: TrainStep needs a batch of at least 2 for the unbiased MMD, got %d", batch)
	}
	if err := lc.Validate(); err != nil {
		return nil, err
	}
	c, err := newCompiled(p, batch)
	if err != nil {
		return nil, err
	}
	s := &TrainStep{compiled: c, lc: lc}
	if s.grads, err = NewParams(p.cfg); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		return nil, fmt.Errorf("model: building the training graph: %w", err)
	}
	return s, c.compile()
}

func (s *TrainStep) build() (err error) {
	b, cfg, n := s.b, s.cfg, float64(s.batch)
	e := &errNodes{}
	defer e.guard(&err)
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
	// Unbiased MMD^2 in O(BD):
	// (||sum a||^2 - sum ||a_i||^2 + ||sum b||^2 - sum ||b_j||^2) / (B(B-1)) - 2 <sum a, sum b> / B^2.
	sa, sb := e.op(sumRows(fa)), e.op(sumRows(fb))
	dot := func(u, v *G.Node) *G.Node { return e.op(G.Sum(e.op(matMul(u, v, false, true)))) }
	sq := func(u *G.Node) *G.Node { return e.op(G.Sum(e.op(G.Square(u)))) }
	within := e.op(G.Add(e.op(G.Sub(dot(sa, sa), sq(fa))), e.op(G.Sub(dot(sb, sb), sq(fb)))))
	mmd2 := e.op(G.Sub(e.op(G.Mul(within, b.constant(1/(n*(n-1))))), e.op(G.Mul(dot(sa, sb), b.constant(2/(n*n))))))
	// Witness direction c = mean b - mean a; f(z) = <phi(z), c>.
	cdir := e.op(G.Mul(e.op(G.Sub(sb, sa)), b.constant(1/n)))
	l2 := e.op(G.Mul(e.op(G.Add(sq(e.op(matMul(fa, cdir, false, true))), sq(e.op(matMul(fb, cdir, false, true))))),
		b.constant(1/(2*n))))
	// grad_z f at the noisy points: the input-VJP seeded with c (the same for every row).
	v := e.op(matMul(cdir, b.p("head.weight"), false, false))
	gflat := e.op(broadcastRows(v, s.batch))
	if e.err != nil {
		return e.err
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
	gzFlat := e.op(G.Reshape(gz, tensor.Shape{s.batch, cfg.InputSize()}))
	norms := e.op(G.Sqrt(e.op(G.Add(e.op(G.Sum(e.op(G.Square(gzFlat)), 1)), b.constant(gradNormEps)))))
	pen := e.op(G.Mean(e.op(G.Square(e.op(G.Sub(norms, b.constant(1)))))))
	gnorm := e.op(G.Mean(norms))
	loss := e.op(G.Sub(e.op(G.Add(e.op(G.Mul(l2, b.constant(s.lc.LambdaL2))), e.op(G.Mul(pen, b.constant(s.lc.LambdaGrad))))), mmd2))
	if e.err != nil {
		return e.err
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

// errNodes threads the first error through a chain of graph constructions: e.op(f(...)) records f's error and
// passes its node on. A constructor that fails returns a nil node, which the next constructor may panic on;
// guard turns that panic back into the first error.
type errNodes struct{ err error }

func (e *errNodes) op(n *G.Node, err error) *G.Node {
	if e.err == nil && err != nil {
		e.err = err
	}
	return n
}

// guard, deferred with the builder's named error result, reports the first recorded error instead of a panic
// that followed it. Panics with no earlier error are bugs and propagate.
func (e *errNodes) guard(err *error) {
	if r := recover(); r != nil {
		if e.err == nil {
			panic(r)
		}
		*err = e.err
	}
}

// Run computes the loss at level t for the noisy batch xt and the clean batch y (each Batch*InputSize values),
// leaving the gradient in Grads. With PenaltyAt interp use RunAt.
func (s *TrainStep) Run(xt, y []float32, t float64) (Stats, error) {
	if s.lc.interp() {
		return Stats{}, fmt.Errorf("model: TrainStep: the penalty is at interpolates: call RunAt with the points")
	}
	return s.run3(xt, y, nil, t)
}

// RunAt is Run with the gradient penalty read at the points z (PenaltyAt interp), typically
// z_i = u_i x_t^i + (1 - u_i) y^i with u_i ~ U[0, 1].
func (s *TrainStep) RunAt(xt, y, z []float32, t float64) (Stats, error) {
	if !s.lc.interp() {
		return Stats{}, fmt.Errorf("model: TrainStep: penalty points given, but the penalty is at x_t")
	}
	return s.run3(xt, y, z, t)
}

func (s *TrainStep) run3(xt, y, z []float32, t float64) (Stats, error) {
	want := s.batch * s.cfg.InputSize()
	if len(xt) != want || len(y) != want || (s.z != nil && len(z) != want) {
		return Stats{}, fmt.Errorf("model: TrainStep: got %d noisy, %d clean and %d penalty-point values, want %d each",
			len(xt), len(y), len(z), want)
	}
	if err := checkLevel(t); err != nil {
		return Stats{}, err
	}
	setImages(s.x, xt, s.cfg.InputSize())
	setImages(s.y, y, s.cfg.InputSize())
	if s.z != nil {
		setImages(s.z, z, s.cfg.InputSize())
	}
	return s.runStats(t)
}

func (s *TrainStep) runStats(t float64) (Stats, error) {
	if err := s.run(t); err != nil {
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
