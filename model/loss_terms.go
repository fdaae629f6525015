package model

import (
	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossTerms builds the terms of the DMMD loss (see the package documentation for the formulas) on the (B, D)
// features of the noisy batch (a) and of the clean batch (b), split into G groups of m = B/G consecutive rows.
// Every term is the mean over groups of the per-group term, each group's multiplied by its level weight w_g
// with LossConfig.LevelWeights (so that, with every w_g = 1, the terms are the unweighted ones). With one group
// the graph is exactly the original one (same ops, same constants), and the caller creates the terms in the original order: Gorgonia sums the gradient
// contributions to a node in an order that follows the graph's construction, so reordering would change the last
// bits of the gradient (TestTrainStepGolden).
type lossTerms struct {
	b             *builder
	e             *ops.Chain
	batch, groups int
	n, gn, m      float64 // rows per side, groups, rows per group
	fa, fb        *G.Node // (B, D) features
	sa, sb        *G.Node // (G, D), row g the sum of group g's features
	cdir          *G.Node // (G, D) witness directions c_g = mean b_g - mean a_g (setDirections)
	cRows         *G.Node // c_g repeated to the batch's rows, built on first use
	// The level weights (LossConfig.LevelWeights), nil without: each group's weight w_g repeated to the shapes
	// the per-group sums run over: (G, D), (B, D), (G) and (B) (B != G, since every group has 2 rows or more).
	wGD, wBD, wG, wB *G.Node
}

func newLossTerms(b *builder, e *ops.Chain, batch, groups int, fa, fb *G.Node) *lossTerms {
	return &lossTerms{b: b, e: e, batch: batch, groups: groups,
		n: float64(batch), gn: float64(groups), m: float64(batch / groups), fa: fa, fb: fb,
		sa: e.Op(ops.SumGroups(fa, groups)), sb: e.Op(ops.SumGroups(fb, groups))}
}

// levelWeights adds the level-weight inputs (d: the feature dimension) and returns their tensors in the order
// (G, D), (B, D), (G), (B); the caller fills them (TrainStep.SetLevelWeights).
func (l *lossTerms) levelWeights(d int) []*tensor.Dense {
	var ts [4]*tensor.Dense
	l.wGD, ts[0] = l.b.input("level_weights_gd", l.groups, d)
	l.wBD, ts[1] = l.b.input("level_weights_bd", l.batch, d)
	l.wG, ts[2] = l.b.input("level_weights_g", l.groups)
	l.wB, ts[3] = l.b.input("level_weights_b", l.batch)
	return ts[:]
}

// weigh multiplies each row of u (one row per group or per batch row, any trailing width) by its group's level
// weight; without level weights it returns u.
func (l *lossTerms) weigh(u *G.Node) *G.Node {
	if l.wB == nil {
		return u
	}
	sh := u.Shape()
	var w *G.Node
	switch {
	case len(sh) == 2 && sh[0] == l.groups:
		w = l.wGD
	case len(sh) == 2:
		w = l.wBD
	case sh[0] == l.groups:
		w = l.wG
	default:
		w = l.wB
	}
	return l.e.Op(ops.Hadamard(u, w))
}

// dot is sum_g w_g <u_g, v_g> over the rows of two (G, D) matrices (w_g = 1 without level weights).
func (l *lossTerms) dot(u, v *G.Node) *G.Node {
	if l.groups == 1 {
		return l.e.Op(G.Sum(l.e.Op(ops.MatMul(u, v, false, true))))
	}
	return l.e.Op(G.Sum(l.weigh(l.e.Op(ops.Hadamard(u, v)))))
}

// sq is the sum of all squares of u, each row's weighted by its group's level weight when there are any.
func (l *lossTerms) sq(u *G.Node) *G.Node { return l.e.Op(G.Sum(l.weigh(l.e.Op(G.Square(u))))) }

// mean is the mean of the per-row values u (B), weighted like sq.
func (l *lossTerms) mean(u *G.Node) *G.Node {
	if l.wB == nil {
		return l.e.Op(G.Mean(u))
	}
	return l.e.Op(G.Mul(l.e.Op(G.Sum(l.weigh(u))), l.b.constant(1/l.n)))
}

// perGroup scales a sum over groups to the mean over groups (nothing to do for one group).
func (l *lossTerms) perGroup(v *G.Node) *G.Node {
	if l.groups == 1 {
		return v
	}
	return l.e.Op(G.Mul(v, l.b.constant(1/l.gn)))
}

// unbiasedMMD2 is the unbiased MMD^2 in O(BD), per group
// (||sum a||^2 - sum ||a_i||^2 + ||sum b||^2 - sum ||b_j||^2) / (m(m-1)) - 2 <sum a, sum b> / m^2.
func (l *lossTerms) unbiasedMMD2() *G.Node {
	e, b, gn, m := l.e, l.b, l.gn, l.m
	sa, sb := l.sa, l.sb
	within := e.Op(G.Add(e.Op(G.Sub(l.dot(sa, sa), l.sq(l.fa))), e.Op(G.Sub(l.dot(sb, sb), l.sq(l.fb)))))
	return e.Op(G.Sub(e.Op(G.Mul(within, b.constant(1/(gn*m*(m-1))))), e.Op(G.Mul(l.dot(sa, sb), b.constant(2/(gn*m*m))))))
}

// pairedMMD2 is the U-statistic of paired rows (LossConfig.MMD paired), per group
// (||sum d||^2 - sum ||d_i||^2) / (m(m-1)) with d_i = b_i - a_i: the mean of <d_i, d_j> over i != j.
func (l *lossTerms) pairedMMD2() *G.Node {
	e, b, gn, m := l.e, l.b, l.gn, l.m
	sd, d := e.Op(G.Sub(l.sb, l.sa)), e.Op(G.Sub(l.fb, l.fa))
	return e.Op(G.Mul(e.Op(G.Sub(l.dot(sd, sd), l.sq(d))), b.constant(1/(gn*m*(m-1)))))
}

// setDirections adds the witness directions c_g = mean b_g - mean a_g, (G, D); f_g(z) = <phi(z), c_g>.
func (l *lossTerms) setDirections() {
	l.cdir = l.e.Op(G.Mul(l.e.Op(G.Sub(l.sb, l.sa)), l.b.constant(1/l.m)))
}

// witness returns <u_r, c_g(r)> for each row r of u: (rows, 1) with one group, (rows) with several; u has the
// batch's rows (group g(r) = r / m) or one row per group.
func (l *lossTerms) witness(u *G.Node) *G.Node {
	e := l.e
	if l.groups == 1 {
		return e.Op(ops.MatMul(u, l.cdir, false, true))
	}
	c := l.cdir
	if u.Shape()[0] != l.groups {
		if l.cRows == nil {
			l.cRows = e.Op(ops.BroadcastRows(l.cdir, l.batch))
		}
		c = l.cRows
	}
	return e.Op(G.Sum(e.Op(ops.Hadamard(u, c)), 1))
}

// l2 is the l2 term F_l2 of the given kind (LossConfig.L2).
func (l *lossTerms) l2(kind string) *G.Node {
	e, b := l.e, l.b
	switch kind {
	case L2SetMeans:
		// mean_i f_g(a_i) = <sum a_g, c_g> / m: per group ((.)^2 + (.)^2) / 2, then the mean over groups.
		return e.Op(G.Mul(e.Op(G.Add(l.sq(l.witness(l.sa)), l.sq(l.witness(l.sb)))), b.constant(1/(2*l.gn*l.m*l.m))))
	case L2Features:
		return e.Op(G.Mul(e.Op(G.Add(l.sq(l.fa), l.sq(l.fb))), b.constant(1/(2*l.n))))
	default:
		// The mean of f^2 over both batches; equal groups make the mean over groups the mean over all rows.
		return e.Op(G.Mul(e.Op(G.Add(l.sq(l.witness(l.fa)), l.sq(l.witness(l.fb)))), b.constant(1/(2*l.n))))
	}
}

// penalty returns F_grad and the mean gradient norm, for gz (B, C, H, W) the witness gradients at the B penalty
// points (inputSize = C H W values each): F_grad = mean_i (||grad_z f(z_i)|| - 1)^2 (PenaltyGP) or
// mean_i ||grad_z f(z_i)||^2 (PenaltyZero). Equal groups make the mean over groups of the per-group means the mean
// over all points.
func (l *lossTerms) penalty(gz *G.Node, inputSize int, form string) (pen, gnorm *G.Node) {
	e, b := l.e, l.b
	gzFlat := e.Op(G.Reshape(gz, tensor.Shape{l.batch, inputSize}))
	sq := e.Op(G.Sum(e.Op(G.Square(gzFlat)), 1))
	norms := e.Op(G.Sqrt(e.Op(G.Add(sq, b.constant(gradNormEps)))))
	if form == PenaltyZero {
		pen = l.mean(sq)
	} else {
		pen = l.mean(e.Op(G.Square(e.Op(G.Sub(norms, b.constant(1))))))
	}
	return pen, e.Op(G.Mean(norms))
}

// loss is -MMD^2 + LambdaL2 F_l2 + LambdaGrad F_grad.
func (l *lossTerms) loss(mmd2, l2, pen *G.Node, lc LossConfig) *G.Node {
	e, b := l.e, l.b
	return e.Op(G.Sub(e.Op(G.Add(e.Op(G.Mul(l2, b.constant(lc.LambdaL2))), e.Op(G.Mul(pen, b.constant(lc.LambdaGrad))))), mmd2))
}
