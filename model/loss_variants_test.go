package model

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLossVariantsMatchReference recomputes every reported loss term of each variant from the Features and Witness
// graphs (one level each) and plain Go, group by group: group g is rows g*m .. (g+1)*m-1 of each batch, at level
// ts[g], with its own MMD^2 (the naive O(m^2 D) double sum, or ||mean a - mean b||^2), its own c_g and witness, and
// the reported terms are the means over groups.
func TestLossVariantsMatchReference(t *testing.T) {
	cfg := tinyConfig(t, 8, 3, "flatten")
	p := referenceParams(t, cfg)
	const batch = 6
	for _, lc := range []LossConfig{
		{LambdaL2: 0.3, LambdaGrad: 2},
		{LambdaL2: 0.3, LambdaGrad: 2, MMD: MMDBiased},
		{LambdaL2: 0.3, LambdaGrad: 2, L2: L2SetMeans},
		{LambdaL2: 0.3, LambdaGrad: 2, L2: L2Features, PenaltyAt: PenaltyAtInterp},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 3, MMD: MMDBiased, L2: L2SetMeans, PenaltyAt: PenaltyAtInterp},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2, L2: L2Features},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 3, PenaltyAt: PenaltyAtInterp},
		{LambdaL2: 0.3, LambdaGrad: 2, MMD: MMDPaired},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2, MMD: MMDPaired, PenaltyAt: PenaltyAtInterp},
		{LambdaL2: 0.3, LambdaGrad: 2, Penalty: PenaltyZero},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2, MMD: MMDPaired, Penalty: PenaltyZero, PenaltyAt: PenaltyAtInterp},
		// Level weights with every estimator, l2 term and penalty.
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2, MMD: MMDPaired, Penalty: PenaltyZero, PenaltyAt: PenaltyAtInterp, LevelWeights: true},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 3, LevelWeights: true},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 3, MMD: MMDBiased, L2: L2SetMeans, LevelWeights: true},
		{LambdaL2: 0.3, LambdaGrad: 2, Groups: 2, L2: L2Features, PenaltyAt: PenaltyAtInterp, LevelWeights: true},
	} {
		name, _ := json.Marshal(lc)
		t.Run(string(name), func(t *testing.T) {
			groups := lc.groups()
			m := batch / groups
			ts := []float64{0.6, 0.05, 0.93}[:groups]
			s, err := NewTrainStep(p, batch, lc)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			wts := []float64{1, 1, 1}
			if lc.LevelWeights {
				wts = []float64{0.7, 2.5, 1.3}
				if err := s.SetLevelWeights(wts[:groups]); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(9, 9))
			size, d := cfg.InputSize(), cfg.FeatureDim
			x, y := randomImages(batch*size, rng), randomImages(batch*size, rng)
			var z []float32
			if lc.interp() {
				z = randomImages(batch*size, rng)
			}
			st, err := s.RunLevels(x, y, z, ts)
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFeatures(p, m)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := NewWitness(p, m)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			rows := func(in []float32, g int) []float64 { return to64(in[g*m*size : (g+1)*m*size]) }
			var mmd, l2, pen, gn float64
			for g, level := range ts {
				a, b := featuresAt(t, f, level, rows(x, g)), featuresAt(t, f, level, rows(y, g))
				c := make([]float64, d)
				for k := 0; k < d; k++ {
					for i := 0; i < m; i++ {
						c[k] += (b[i*d+k] - a[i*d+k]) / float64(m)
					}
				}
				wg := wts[g]
				switch lc.MMD {
				case MMDBiased:
					mmd += wg * dot(c, c) / float64(groups)
				case MMDPaired:
					mmd += wg * naivePairedMMD2(a, b, d) / float64(groups)
				default:
					mmd += wg * naiveMMD2(a, b, d) / float64(groups)
				}
				var ma, mb, sumSq, sumF2 float64
				for i := 0; i < m; i++ {
					ai, bi := a[i*d:(i+1)*d], b[i*d:(i+1)*d]
					fa, fb := dot(ai, c), dot(bi, c)
					ma, mb = ma+fa/float64(m), mb+fb/float64(m)
					sumF2 += fa*fa + fb*fb
					sumSq += dot(ai, ai) + dot(bi, bi)
				}
				switch lc.L2 {
				case L2SetMeans:
					l2 += wg * (ma*ma + mb*mb) / 2 / float64(groups)
				case L2Features:
					l2 += wg * sumSq / float64(2*m) / float64(groups)
				default:
					l2 += wg * sumF2 / float64(2*m) / float64(groups)
				}
				at := x
				if z != nil {
					at = z
				}
				for _, norm := range witnessGradNorms(t, w, level, rows(at, g), c) {
					if lc.Penalty == PenaltyZero {
						pen += wg * norm * norm / float64(batch)
					} else {
						pen += wg * (norm - 1) * (norm - 1) / float64(batch)
					}
					gn += norm / float64(batch)
				}
			}
			checkReferenceStats(t, st, lc, mmd, l2, pen, gn)
		})
	}
}

// TestGroupsDifferFromOneLevel guards the reference test against a grouped step that ignores its levels: with
// different levels per group the loss must differ from every group at the first level.
func TestGroupsDifferFromOneLevel(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p := randomParams(t, cfg, 3)
	s, err := NewTrainStep(p, 4, LossConfig{LambdaL2: 0.1, LambdaGrad: 1, Groups: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	n := 4 * cfg.InputSize()
	x, y := randomImages(n, rng), randomImages(n, rng)
	a, err := s.RunLevels(x, y, nil, []float64{0.2, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.RunLevels(x, y, nil, []float64{0.2, 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if a.Loss == b.Loss || a.MMD2 == b.MMD2 {
		t.Errorf("the second group's level changed nothing: %+v vs %+v", a, b)
	}
}

// TestLossConfigJSON checks that configurations written before the variants existed read as the original loss,
// and that the original loss writes the same JSON as before (no new keys).
func TestLossConfigJSON(t *testing.T) {
	const old = `{"lambda_l2":0.1,"lambda_grad":10,"penalty_at":"xt"}`
	var l LossConfig
	if err := json.Unmarshal([]byte(old), &l); err != nil {
		t.Fatal(err)
	}
	if l != DefaultLoss() || l.groups() != 1 || l.MMD != "" || l.L2 != "" {
		t.Errorf("old config read as %+v, want %+v", l, DefaultLoss())
	}
	if b, err := json.Marshal(DefaultLoss()); err != nil || string(b) != old {
		t.Errorf("DefaultLoss writes %s (%v), want %s", b, err, old)
	}
	all := LossConfig{LambdaL2: 1, LambdaGrad: 2, PenaltyAt: PenaltyAtInterp, MMD: MMDBiased, L2: L2SetMeans, Groups: 8}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mmd":"biased"`, `"l2":"set-means"`, `"groups":8`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
	var back LossConfig
	if err := json.Unmarshal(b, &back); err != nil || back != all {
		t.Errorf("round trip: %+v (%v), want %+v", back, err, all)
	}
}

func TestLossConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		lc LossConfig
		ok bool
	}{
		{LossConfig{}, true},
		{DefaultLoss(), true},
		{LossConfig{MMD: MMDUnbiased, L2: L2Witness, Groups: 1}, true},
		{LossConfig{MMD: MMDBiased, L2: L2SetMeans, Groups: 8}, true},
		{LossConfig{L2: L2Features}, true},
		{LossConfig{MMD: "Biased"}, false},
		{LossConfig{MMD: "v"}, false},
		{LossConfig{L2: "set_means"}, false},
		{LossConfig{L2: "none"}, false},
		{LossConfig{Groups: -1}, false},
		{LossConfig{Groups: maxGroups + 1}, false},
		{LossConfig{PenaltyAt: "y"}, false},
		{LossConfig{Penalty: PenaltyGP}, true},
		{LossConfig{Penalty: PenaltyZero, PenaltyAt: PenaltyAtInterp}, true},
		{LossConfig{Penalty: "r1"}, false},
		{LossConfig{LambdaL2: math.NaN()}, false},
		{LossConfig{LambdaGrad: -1}, false},
		{LossConfig{Groups: 2, LevelWeights: true}, true},
		{LossConfig{Groups: 1, LevelWeights: true}, false},
		{LossConfig{LevelWeights: true}, false},
	} {
		err := tc.lc.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok = %v", tc.lc, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v does not wrap ErrConfig", tc.lc, err)
		}
	}
}

// TestTrainStepGroupsErrors checks the batch split and the run methods' arguments.
func TestTrainStepGroupsErrors(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p := randomParams(t, cfg, 1)
	for _, tc := range []struct {
		batch, groups int
		ok            bool
	}{
		{4, 2, true}, {6, 3, true}, {6, 4, false}, {6, 6, false}, {8, 3, false}, {2, 0, true}, {3, 1, true},
	} {
		s, err := NewTrainStep(p, tc.batch, LossConfig{Groups: tc.groups})
		if (err == nil) != tc.ok {
			t.Errorf("batch %d, groups %d: %v, want ok = %v", tc.batch, tc.groups, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("batch %d, groups %d: %v does not wrap ErrConfig", tc.batch, tc.groups, err)
		}
		if s != nil {
			s.Close()
		}
	}
	n := 4 * cfg.InputSize()
	x := make([]float32, n)
	for _, tc := range []struct {
		name string
		lc   LossConfig
		run  func(s *TrainStep) error
	}{
		{"Run with groups", LossConfig{Groups: 2}, func(s *TrainStep) error { _, err := s.Run(x, x, 0.5); return err }},
		{"RunAt with groups", LossConfig{Groups: 2, PenaltyAt: PenaltyAtInterp},
			func(s *TrainStep) error { _, err := s.RunAt(x, x, x, 0.5); return err }},
		{"one level for two groups", LossConfig{Groups: 2},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, nil, []float64{0.5}); return err }},
		{"three levels for two groups", LossConfig{Groups: 2},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, nil, []float64{0.5, 0.5, 0.5}); return err }},
		{"level outside [0, 1]", LossConfig{Groups: 2},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, nil, []float64{0.5, 1.5}); return err }},
		{"NaN level", LossConfig{},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, nil, []float64{math.NaN()}); return err }},
		{"points without interpolates", LossConfig{Groups: 2},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, x, []float64{0.5, 0.5}); return err }},
		{"interpolates without points", LossConfig{Groups: 2, PenaltyAt: PenaltyAtInterp},
			func(s *TrainStep) error { _, err := s.RunLevels(x, x, nil, []float64{0.5, 0.5}); return err }},
		{"short batch", LossConfig{Groups: 2},
			func(s *TrainStep) error { _, err := s.RunLevels(x[:n-1], x, nil, []float64{0.5, 0.5}); return err }},
		{"level weights without LevelWeights", LossConfig{Groups: 2},
			func(s *TrainStep) error { return s.SetLevelWeights([]float64{1, 2}) }},
		{"one level weight for two groups", LossConfig{Groups: 2, LevelWeights: true},
			func(s *TrainStep) error { return s.SetLevelWeights([]float64{1}) }},
		{"zero level weight", LossConfig{Groups: 2, LevelWeights: true},
			func(s *TrainStep) error { return s.SetLevelWeights([]float64{1, 0}) }},
		{"NaN level weight", LossConfig{Groups: 2, LevelWeights: true},
			func(s *TrainStep) error { return s.SetLevelWeights([]float64{math.NaN(), 1}) }},
		{"infinite level weight", LossConfig{Groups: 2, LevelWeights: true},
			func(s *TrainStep) error { return s.SetLevelWeights([]float64{1, math.Inf(1)}) }},
	} {
		s, err := NewTrainStep(p, 4, tc.lc)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.run(s); err == nil || !strings.HasPrefix(err.Error(), "model: ") {
			t.Errorf("%s: error %v, want one starting with \"model: \"", tc.name, err)
		}
		s.Close()
	}
}

// naivePairedMMD2 is the mean of <b_i - a_i, b_j - a_j> over i != j, as a double sum.
func naivePairedMMD2(a, b []float64, d int) float64 {
	m := len(a) / d
	var s float64
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			if i == j {
				continue
			}
			for k := 0; k < d; k++ {
				s += (b[i*d+k] - a[i*d+k]) * (b[j*d+k] - a[j*d+k])
			}
		}
	}
	return s / float64(m*(m-1))
}
