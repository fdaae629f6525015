package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// replicaInputs returns a noisy batch, a clean batch and penalty points (batch rows each) and one level per group.
func replicaInputs(c Config, batch, groups int, seed uint64) (xt, y, z []float32, ts []float64) {
	rng := rand.New(rand.NewPCG(seed, 5))
	n := batch * c.InputSize()
	xt, y, z = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range xt {
		xt[i], y[i], z[i] = float32(rng.NormFloat64()), float32(0.5*rng.NormFloat64()), float32(0.7*rng.NormFloat64())
	}
	ts = make([]float64, groups)
	for g := range ts {
		ts[g] = 0.05 + 0.85*float64(g)/float64(groups-1)
	}
	return xt, y, z, ts
}

// TestTrainStepReplicas: a step split between r graphs that run concurrently has the loss, Stats and gradient of
// the one-graph step on the same batch (float64, to rounding), for the MNIST recipe's loss and the paper's, with
// level weights, and r from 2 to the number of groups; its gradient also agrees with float64 central finite
// differences of its own loss.
func TestTrainStepReplicas(t *testing.T) {
	full := DefaultLoss()
	recipe := full
	recipe.MMD, recipe.Penalty, recipe.PenaltyAt = MMDPaired, PenaltyZero, PenaltyAtInterp
	for _, tc := range []struct {
		lc       LossConfig
		groups   int
		batch, r int
		weights  []float64
	}{
		{lc: recipe, groups: 4, batch: 8, r: 2},
		{lc: recipe, groups: 4, batch: 8, r: 4},
		{lc: full, groups: 2, batch: 6, r: 2},
		{lc: recipe, groups: 4, batch: 12, r: 2, weights: []float64{0.4, 1.9, 1.0, 0.7}},
	} {
		lc := tc.lc
		lc.Groups, lc.LevelWeights = tc.groups, tc.weights != nil
		t.Run(fmt.Sprintf("mmd=%s-at=%s-groups=%d-b=%d-r=%d-w=%t", lc.MMD, lc.PenaltyAt, tc.groups, tc.batch, tc.r, lc.LevelWeights), func(t *testing.T) {
			cfg := tinyConfig(t, 8, 3, "flatten")
			p := randomParams(t, cfg, 7)
			hw := p.Index("head.weight")
			v := p.Float64s(hw)
			for i := range v {
				v[i] *= 12 // witness gradients of O(1), as in TestTrainStepGradient
			}
			if err := p.SetFloat64s(hw, v); err != nil {
				t.Fatal(err)
			}
			one, err := NewTrainStep(p, tc.batch, lc)
			if err != nil {
				t.Fatal(err)
			}
			defer one.Close()
			rep, err := NewTrainStepReplicas(p, tc.batch, lc, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			defer rep.Close()
			if rep.Replicas() != tc.r || rep.Groups() != tc.groups || rep.Batch() != tc.batch {
				t.Fatalf("Replicas, Groups, Batch = %d, %d, %d; want %d, %d, %d", rep.Replicas(), rep.Groups(), rep.Batch(), tc.r, tc.groups, tc.batch)
			}
			if tc.weights != nil {
				for _, s := range []*TrainStep{one, rep} {
					if err := s.SetLevelWeights(tc.weights); err != nil {
						t.Fatal(err)
					}
				}
			}
			xt, y, z, ts := replicaInputs(cfg, tc.batch, tc.groups, 3)
			if lc.PenaltyAt != PenaltyAtInterp {
				z = nil
			}
			want, err := one.RunLevels(xt, y, z, ts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rep.RunLevels(xt, y, z, ts)
			if err != nil {
				t.Fatal(err)
			}
			close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"loss", got.Loss, want.Loss}, {"mmd2", got.MMD2, want.MMD2}, {"l2", got.L2, want.L2},
				{"penalty", got.GradPenalty, want.GradPenalty}, {"grad norm", got.GradNorm, want.GradNorm}} {
				if !close(f.got, f.want) {
					t.Errorf("%s: replicas %.15g, one graph %.15g", f.name, f.got, f.want)
				}
			}
			scale := 0.0
			for i := range p.Len() {
				for _, w := range one.Grads().Float64s(i) {
					scale = math.Max(scale, math.Abs(w))
				}
			}
			for i, spec := range p.Specs() {
				g, w := rep.Grads().Float64s(i), one.Grads().Float64s(i)
				for j := range w {
					if math.Abs(g[j]-w[j]) > 1e-12*scale {
						t.Fatalf("%s[%d]: replicas %.15g, one graph %.15g", spec.Name, j, g[j], w[j])
					}
				}
			}
			// The replicated step's own gradient against finite differences of its loss, a few entries of each
			// tensor.
			rng := rand.New(rand.NewPCG(4, 4))
			an := make([][]float64, p.Len())
			for i := range an {
				an[i] = rep.Grads().Float64s(i)
			}
			for i, spec := range p.Specs() {
				vals := p.Data(i).([]float64)
				for _, j := range sampleIndices(len(vals), 3, rng) {
					old := vals[j]
					h := 1e-5 * math.Max(1, math.Abs(old))
					vals[j] = old + h
					lp, err := rep.RunLevels(xt, y, z, ts)
					if err != nil {
						t.Fatal(err)
					}
					vals[j] = old - h
					lm, err := rep.RunLevels(xt, y, z, ts)
					if err != nil {
						t.Fatal(err)
					}
					vals[j] = old
					fd := (lp.Loss - lm.Loss) / (2 * h)
					if math.Abs(fd-an[i][j]) > 1e-5*math.Max(scale*1e-2, math.Abs(fd)) {
						t.Errorf("%s[%d]: finite differences %.8g, replicas' gradient %.8g", spec.Name, j, fd, an[i][j])
					}
				}
			}
		})
	}
}

// TestTrainStepReplicasErrors: replica counts that do not divide the loss into whole groups are config errors, and
// a closed replicated step refuses to run.
func TestTrainStepReplicasErrors(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p := randomParams(t, cfg, 1)
	grouped := func(g int) LossConfig { lc := DefaultLoss(); lc.Groups = g; return lc }
	weighted := grouped(4)
	weighted.LevelWeights = true
	for _, tc := range []struct {
		name  string
		lc    LossConfig
		batch int
		r     int
	}{
		{"no replicas", grouped(4), 8, 0},
		{"negative", grouped(4), 8, -2},
		{"one group", DefaultLoss(), 8, 2},
		{"groups not divisible", grouped(3), 6, 2},
		{"more replicas than groups", grouped(2), 8, 4},
		{"batch not divisible", grouped(4), 10, 2},
		{"level weights on one group per replica", weighted, 8, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewTrainStepReplicas(p, tc.batch, tc.lc, tc.r)
			if err == nil {
				s.Close()
				t.Fatalf("NewTrainStepReplicas(batch %d, groups %d, r %d): no error", tc.batch, tc.lc.Groups, tc.r)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
		})
	}
	s, err := NewTrainStepReplicas(p, 8, grouped(4), 2)
	if err != nil {
		t.Fatal(err)
	}
	xt, y, _, ts := replicaInputs(cfg, 8, 4, 1)
	if _, err := s.RunLevels(xt[:len(xt)-1], y, nil, ts); err == nil {
		t.Error("a short noisy batch: no error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.RunLevels(xt, y, nil, ts); err == nil {
		t.Error("a run after Close: no error")
	}
}
