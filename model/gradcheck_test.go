package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// tinyConfig is the tiny preset at a test size, in float64. pool is "flatten" or "mean", with the suffix "+hidden"
// for a head with a hidden layer (HeadHidden 6).
func tinyConfig(t testing.TB, size, channels int, pool string) Config {
	t.Helper()
	c, err := Preset("tiny", size, channels)
	if err != nil {
		t.Fatal(err)
	}
	c.DType = "float64"
	c.Pool = strings.TrimSuffix(pool, "+hidden")
	if c.Pool != pool {
		c.HeadHidden = 6
	}
	return c
}

// randomParams initialises p and gives every bias a random value too, so that no term of the gradient is
// trivially zero.
func randomParams(t testing.TB, c Config, seed uint64) *Params {
	t.Helper()
	p, err := Init(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for i, s := range p.Specs() {
		if len(s.Shape) == 1 {
			v := p.Float64s(i)
			for j := range v {
				v[j] = 0.2 * rng.NormFloat64()
			}
			if err := p.SetFloat64s(i, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

func fillNormal(d *tensor.Dense, rng *rand.Rand, scale float64) {
	switch v := d.Data().(type) {
	case []float64:
		for i := range v {
			v[i] = scale * rng.NormFloat64()
		}
	case []float32:
		for i := range v {
			v[i] = float32(scale * rng.NormFloat64())
		}
	}
}

// TestTrainStepGradient compares the full loss gradient (MMD + l2 + gradient penalty) with float64 central finite
// differences, for every parameter tensor, for each loss variant (estimator, l2 term, penalty points, groups).
func TestTrainStepGradient(t *testing.T) {
	full := DefaultLoss()
	with := func(l LossConfig, f func(*LossConfig)) LossConfig { f(&l); return l }
	biased := func(l *LossConfig) { l.MMD = MMDBiased }
	paired := func(l *LossConfig) { l.MMD = MMDPaired }
	setMeans := func(l *LossConfig) { l.L2 = L2SetMeans }
	features := func(l *LossConfig) { l.L2 = L2Features }
	interp := func(l *LossConfig) { l.PenaltyAt = PenaltyAtInterp }
	zero := func(l *LossConfig) { l.Penalty = PenaltyZero }
	weighted := func(l *LossConfig) { l.LevelWeights = true }
	groups := func(g int) func(*LossConfig) { return func(l *LossConfig) { l.Groups = g } }
	all := func(fs ...func(*LossConfig)) func(*LossConfig) {
		return func(l *LossConfig) {
			for _, f := range fs {
				f(l)
			}
		}
	}
	for _, tc := range []struct {
		size, ch  int
		pool      string
		lc        LossConfig
		headScale float64 // scales the head so that witness gradients are O(1)
		batch     int     // per side; 4 when 0
	}{
		{size: 8, ch: 1, pool: "flatten", lc: full, headScale: 1}, {size: 8, ch: 3, pool: "flatten", lc: full, headScale: 1},
		{size: 16, ch: 1, pool: "flatten", lc: full, headScale: 1}, {size: 16, ch: 3, pool: "flatten", lc: full, headScale: 1},
		{size: 8, ch: 3, pool: "mean", lc: full, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: full, headScale: 12},
		// Each term on its own.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaGrad: 1}, headScale: 12},
		// The penalty at interpolates between the batches.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 0.1, LambdaGrad: 10, PenaltyAt: PenaltyAtInterp}, headScale: 12},
		{size: 16, ch: 1, pool: "mean", lc: LossConfig{LambdaGrad: 1, PenaltyAt: PenaltyAtInterp}, headScale: 12},
		// The biased MMD^2, alone and in the full loss.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{MMD: MMDBiased}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, biased), headScale: 12},
		// The paired MMD^2, alone, in the full loss, and with groups and interpolates.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{MMD: MMDPaired}, headScale: 1},
		{size: 8, ch: 1, pool: "flatten", lc: with(full, paired), headScale: 12},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, all(groups(2), interp, paired)), headScale: 12, batch: 6},
		// The zero-centred penalty, alone, in the full loss, and with groups, pairs and interpolates.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaGrad: 1, Penalty: PenaltyZero}, headScale: 12},
		{size: 8, ch: 1, pool: "flatten", lc: with(full, zero), headScale: 12},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, all(groups(2), interp, paired, zero)), headScale: 12, batch: 6},
		// The l2 terms on the set means and on the features, alone and in the full loss.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, L2: L2SetMeans}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, L2: L2Features}, headScale: 1},
		{size: 8, ch: 1, pool: "mean", lc: with(full, all(setMeans, biased)), headScale: 12},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, all(features, interp)), headScale: 12},
		// Groups, each at its own level: each term on its own, the full loss, with every variant.
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{Groups: 2}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{Groups: 3, MMD: MMDBiased}, headScale: 1, batch: 6},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, Groups: 2}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, L2: L2SetMeans, Groups: 3}, headScale: 1, batch: 6},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, L2: L2Features, Groups: 2}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaGrad: 1, Groups: 2}, headScale: 12},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, groups(2)), headScale: 12},
		{size: 16, ch: 1, pool: "flatten", lc: with(full, groups(3)), headScale: 12, batch: 6},
		{size: 8, ch: 3, pool: "mean", lc: with(full, all(groups(2), interp)), headScale: 12, batch: 6},
		{size: 8, ch: 3, pool: "flatten", lc: with(full, all(groups(2), interp, biased, setMeans)), headScale: 12},
		{size: 8, ch: 1, pool: "flatten", lc: with(full, all(groups(4), features)), headScale: 12, batch: 8},
		// A head with a hidden layer (HeadHidden > 0).
		{size: 8, ch: 3, pool: "flatten+hidden", lc: full, headScale: 4},
		{size: 8, ch: 1, pool: "mean+hidden", lc: with(full, interp), headScale: 4},
		{size: 8, ch: 3, pool: "flatten+hidden", lc: with(full, all(groups(2), interp, paired, zero)), headScale: 4, batch: 6},
		{size: 16, ch: 1, pool: "flatten+hidden", lc: with(full, all(groups(2), interp)), headScale: 4, batch: 4},
		// Level weights (set to 0.4, 1.9, 1.0, ... below): in the full loss with the MNIST recipe's terms, and
		// each weighted term on its own.
		{size: 8, ch: 3, pool: "flatten", lc: with(full, all(groups(2), interp, paired, zero, weighted)), headScale: 12, batch: 6},
		{size: 8, ch: 1, pool: "flatten", lc: with(full, all(groups(3), weighted)), headScale: 12, batch: 6},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{Groups: 2, LevelWeights: true}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaL2: 1, Groups: 2, LevelWeights: true}, headScale: 1},
		{size: 8, ch: 3, pool: "flatten", lc: LossConfig{LambdaGrad: 1, Groups: 2, LevelWeights: true, Penalty: PenaltyZero}, headScale: 12},
	} {
		batch := tc.batch
		if batch == 0 {
			batch = 4
		}
		lc := tc.lc
		t.Run(fmt.Sprintf("%dx%dx%d-%s-l2=%g-grad=%g-at=%s-mmd=%s-l2term=%s-groups=%d-w=%t-b=%d-head=%g", tc.ch, tc.size, tc.size,
			tc.pool, lc.LambdaL2, lc.LambdaGrad, lc.PenaltyAt, lc.MMD, lc.L2, lc.Groups, lc.LevelWeights, batch, tc.headScale), func(t *testing.T) {
			cfg := tinyConfig(t, tc.size, tc.ch, tc.pool)
			p := randomParams(t, cfg, 7)
			hw := p.Index("head.weight")
			v := p.Float64s(hw)
			for i := range v {
				v[i] *= tc.headScale
			}
			if err := p.SetFloat64s(hw, v); err != nil {
				t.Fatal(err)
			}
			s, err := NewTrainStep(p, batch, lc)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			fillNormal(s.x, rng, 1)
			fillNormal(s.y, rng, 0.5)
			if s.z != nil {
				fillNormal(s.z, rng, 0.7)
			}
			// One level per group, spread over [0.05, 0.9] (0.3 for one group).
			levels := []float64{0.3}
			if g := lc.groups(); g > 1 {
				levels = make([]float64, g)
				for i := range levels {
					levels[i] = 0.05 + 0.85*float64(i)/float64(g-1)
				}
			}
			if lc.LevelWeights {
				w := make([]float64, len(levels))
				for i := range w {
					w[i] = []float64{0.4, 1.9, 1.0}[i%3]
				}
				if err := s.SetLevelWeights(w); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.runStats(levels)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loss %.6g mmd2 %.4g l2 %.4g pen %.4g |grad| %.4g", st.Loss, st.MMD2, st.L2, st.GradPenalty, st.GradNorm)
			grads := s.Grads()
			an := make([][]float64, p.Len())
			global := 0.0 // the largest gradient entry of any tensor
			for i := range an {
				an[i] = grads.Float64s(i)
				for _, v := range an[i] {
					global = math.Max(global, math.Abs(v))
				}
			}
			lossAt := func() float64 {
				st, err := s.runStats(levels)
				if err != nil {
					t.Fatal(err)
				}
				return st.Loss
			}
			worst := 0.0
			for i, spec := range p.Specs() {
				vals := p.Data(i).([]float64)
				idx := sampleIndices(len(vals), 12, rng)
				var maxErr, maxG, maxAn, maxFD float64
				for _, j := range idx {
					old := vals[j]
					h := 1e-5 * math.Max(1, math.Abs(old))
					vals[j] = old + h
					lp := lossAt()
					vals[j] = old - h
					lm := lossAt()
					vals[j] = old
					fd := (lp - lm) / (2 * h)
					maxErr = math.Max(maxErr, math.Abs(fd-an[i][j]))
					maxAn, maxFD = math.Max(maxAn, math.Abs(an[i][j])), math.Max(maxFD, math.Abs(fd))
					maxG = math.Max(maxG, math.Max(math.Abs(fd), math.Abs(an[i][j])))
				}
				if maxG <= 1e-7*global {
					// The loss does not depend on this tensor (head.bias when lambda_l2 = 0: the MMD and the
					// witness gradient are invariant to a shift of every feature), so both gradients are
					// rounding noise; they must both stay at that noise level.
					if maxAn > 1e-7*global || maxFD > 1e-7*global {
						t.Errorf("%s: gradient should vanish: analytic %.3g, finite differences %.3g (scale %.3g)",
							spec.Name, maxAn, maxFD, global)
					}
					continue
				}
				rel := maxErr / maxG
				worst = math.Max(worst, rel)
				if rel > 1e-5 {
					t.Errorf("%s: max |fd - analytic| = %.3g, relative %.3g (max |grad| %.3g)", spec.Name, maxErr, rel, maxG)
				}
			}
			t.Logf("worst relative error over %d tensors: %.3g", p.Len(), worst)
		})
	}
}

// sampleIndices returns up to k distinct indices of [0, n), always including 0 and n-1.
func sampleIndices(n, k int, rng *rand.Rand) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := []int{0, n - 1}
	for _, j := range rng.Perm(n)[:k-2] {
		if j != 0 && j != n-1 {
			out = append(out, j)
		}
	}
	return out
}

// TestFloat32MatchesFloat64 runs the same step in float32 (the training dtype, with the fast sigmoid) and float64
// and compares the loss terms and every gradient tensor.
func TestFloat32MatchesFloat64(t *testing.T) {
	c64 := tinyConfig(t, 16, 3, "flatten")
	p64 := randomParams(t, c64, 21)
	c32 := c64
	c32.DType = "float32"
	p32, _ := NewParams(c32)
	for i := range p64.Specs() {
		if err := p32.SetFloat64s(i, p64.Float64s(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Round the float64 parameters to float32 values so both start from the same point.
	for i := range p64.Specs() {
		p64.SetFloat64s(i, p32.Float64s(i))
	}
	const batch = 6
	s64, err := NewTrainStep(p64, batch, DefaultLoss())
	if err != nil {
		t.Fatal(err)
	}
	s32, err := NewTrainStep(p32, batch, DefaultLoss())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	n := batch * c64.InputSize()
	x, y := randomImages(n, rng), randomImages(n, rng)
	a, err := s64.Run(x, y, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s32.Run(x, y, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][3]float64{{a.Loss, b.Loss, 0}, {a.MMD2, b.MMD2, 0}, {a.GradPenalty, b.GradPenalty, 0}, {a.GradNorm, b.GradNorm, 0}} {
		if math.Abs(v[0]-v[1]) > 1e-4*math.Max(1, math.Abs(v[0])) {
			t.Errorf("float32 %v vs float64 %v", v[1], v[0])
		}
	}
	for i, spec := range p64.Specs() {
		g64, g32 := s64.Grads().Float64s(i), s32.Grads().Float64s(i)
		var num, den float64
		for j := range g64 {
			num += (g64[j] - g32[j]) * (g64[j] - g32[j])
			den += g64[j] * g64[j]
		}
		if math.Sqrt(num) > 1e-3*math.Sqrt(den)+1e-9 {
			t.Errorf("%s: float32 gradient differs by %.3g relative", spec.Name, math.Sqrt(num/den))
		}
	}
}
