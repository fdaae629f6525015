package sample_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/sample"
)

// TestEmbeddings compares ComputeEmbeddings with a direct computation: m_P from the features of the clean images,
// m_N checked statistically (its noise streams are internal) and for independence from the batch size.
func TestEmbeddings(t *testing.T) {
	const dim, D = 4, 24
	c := newRFF(1, 2, 2, D, 0.3, 1, 2)
	d := newCloud(30, dim, 4)
	levels := []float64{1, 0.5, 0.01}
	ref, err := sample.ComputeEmbeddings(c, d, levels, sample.EmbedOptions{M: 25, Batch: 7, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if ref.M != 25 || ref.Seed != 9 || len(ref.MP) != 3 || len(ref.MN) != 3 || ref.D() != D || !ref.HasNoised() {
		t.Fatalf("embeddings: M %d, seed %d, %d/%d rows, D %d", ref.M, ref.Seed, len(ref.MP), len(ref.MN), ref.D())
	}
	feat := make([]float32, 25*D)
	for k, tt := range levels {
		if err := c.Features(d.x[:25*dim], tt, feat); err != nil {
			t.Fatal(err)
		}
		for j := range D {
			var s float64
			for i := range 25 {
				s += float64(feat[i*D+j])
			}
			if math.Abs(s/25-ref.MP[k][j]) > 1e-12 {
				t.Fatalf("MP[%d][%d] = %v, want %v", k, j, ref.MP[k][j], s/25)
			}
		}
	}
	// At t = 0.01 (beta 0.045) the noised data is close to the clean data, so m_N is close to m_P; at t = 1 it is not.
	var near, far float64
	for j := range D {
		near = max(near, math.Abs(ref.MN[2][j]-ref.MP[2][j]))
		far = max(far, math.Abs(ref.MN[0][j]-ref.MP[0][j]))
	}
	if !(near < 0.05 && far > 5*near) {
		t.Errorf("|m_N - m_P| = %.3g at t=0.01 and %.3g at t=1", near, far)
	}
	// Batch size does not change a bit; M = 0 means all; the seed changes m_N only.
	for _, batch := range []int{0, 1, 25, 100} {
		e, err := sample.ComputeEmbeddings(c, d, levels, sample.EmbedOptions{M: 25, Batch: batch, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		for k := range levels {
			for j := range D {
				if e.MP[k][j] != ref.MP[k][j] || e.MN[k][j] != ref.MN[k][j] {
					t.Fatalf("batch %d: embeddings differ from batch 7 at [%d][%d]", batch, k, j)
				}
			}
		}
	}
	all, _ := sample.ComputeEmbeddings(c, d, levels, sample.EmbedOptions{Seed: 9})
	if all.M != 30 {
		t.Errorf("M = 0 averaged %d images, want 30", all.M)
	}
	other, _ := sample.ComputeEmbeddings(c, d, levels, sample.EmbedOptions{M: 25, Seed: 10, SkipNoised: true})
	if other.MN != nil || other.HasNoised() {
		t.Error("SkipNoised computed m_N")
	}
	for k := range levels {
		for j := range D {
			if other.MP[k][j] != ref.MP[k][j] {
				t.Fatal("the seed changed m_P")
			}
		}
	}
	if !ref.Matches(levels, 25, 9, 0) {
		t.Error("Matches(own levels, M, seed) = false")
	}
	f32 := make([]float64, len(levels))
	for i, v := range levels {
		f32[i] = float64(float32(v))
	}
	if !ref.Matches(f32, 25, 9, 0) {
		t.Error("levels stored as float32 do not match")
	}
	for _, tc := range []struct {
		lv   []float64
		m    int
		seed uint64
	}{{levels[:2], 25, 9}, {[]float64{1, 0.5, 0.02}, 25, 9}, {levels, 24, 9}, {levels, 25, 8}} {
		if ref.Matches(tc.lv, tc.m, tc.seed, 0) {
			t.Errorf("Matches(%v, %d, %d) = true", tc.lv, tc.m, tc.seed)
		}
	}
	if err := ref.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// The flat [T, D] layout for storage round-trips.
	mp, mn := ref.Flat()
	back, err := sample.NewEmbeddings(ref.Levels, ref.M, ref.Seed, ref.D(), mp, mn)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Matches(levels, 25, 9, 0) || mp[D+3] != ref.MP[1][3] || back.MN[2][5] != ref.MN[2][5] || back.MP[0][0] != ref.MP[0][0] {
		t.Error("Flat/NewEmbeddings do not round-trip")
	}
	mp, mn = other.Flat()
	if mn != nil {
		t.Error("Flat of skipped m_N is not nil")
	}
	if back, err := sample.NewEmbeddings(levels, 25, 10, D, mp, nil); err != nil || back.HasNoised() {
		t.Errorf("NewEmbeddings without m_N: %v", err)
	}
	for _, bad := range [][]float64{mp[:len(mp)-1], nil} {
		if _, err := sample.NewEmbeddings(levels, 25, 10, D, bad, nil); err == nil {
			t.Error("NewEmbeddings accepted a short m_P")
		}
	}
	if _, err := sample.NewEmbeddings(levels, 25, 10, D, mp, mp[:3]); err == nil {
		t.Error("NewEmbeddings accepted a short m_N")
	}
}

// constCritic has features that do not depend on z: the mean embeddings are then exact constants.
type constCritic struct{ err error }

func (constCritic) Shape() (int, int, int) { return 1, 1, 2 }
func (constCritic) FeatureDim() int        { return 3 }
func (c constCritic) Features(z []float32, t float64, out []float32) error {
	for i := range out {
		out[i] = float32(i%3) * float32(t)
	}
	return c.err
}
func (c constCritic) WitnessGrad(z []float32, t float64, dirs, out []float32) error {
	clear(out)
	return c.err
}

func TestEmbeddingsErrors(t *testing.T) {
	d := newCloud(5, 2, 1)
	c := constCritic{}
	e, err := sample.ComputeEmbeddings(c, d, []float64{0.5}, sample.EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.MP[0][0] != 0 || e.MP[0][1] != 0.5 || e.MP[0][2] != 1 {
		t.Errorf("constant features averaged to %v", e.MP[0])
	}
	tests := []struct {
		name   string
		c      sample.Critic
		d      *cloud
		levels []float64
		opt    sample.EmbedOptions
	}{
		{"nil critic", nil, d, []float64{0.5}, sample.EmbedOptions{}},
		{"nil data", c, nil, []float64{0.5}, sample.EmbedOptions{}},
		{"no levels", c, d, nil, sample.EmbedOptions{}},
		{"level 0", c, d, []float64{0}, sample.EmbedOptions{}},
		{"level NaN", c, d, []float64{math.NaN()}, sample.EmbedOptions{}},
		{"negative M", c, d, []float64{0.5}, sample.EmbedOptions{M: -1}},
		{"negative batch", c, d, []float64{0.5}, sample.EmbedOptions{Batch: -1}},
		{"bad schedule", c, d, []float64{0.5}, sample.EmbedOptions{Schedule: diffusion.Schedule{BetaMin: 1, BetaMax: 0.5, TMin: 0.1}}},
		{"empty data", c, newCloud(0, 2, 1), []float64{0.5}, sample.EmbedOptions{}},
		{"critic fails", constCritic{errors.New("boom")}, d, []float64{0.5}, sample.EmbedOptions{}},
	}
	for _, tc := range tests {
		var err error
		if tc.d == nil {
			_, err = sample.ComputeEmbeddings(tc.c, nil, tc.levels, tc.opt)
		} else {
			_, err = sample.ComputeEmbeddings(tc.c, tc.d, tc.levels, tc.opt)
		}
		if err == nil || !strings.HasPrefix(err.Error(), "sample: ") {
			t.Errorf("%s: error %v, want a sample: error", tc.name, err)
		}
	}
	bad := []*sample.Embeddings{
		nil,
		{},
		{Levels: []float64{1}, M: 1, MP: [][]float64{{1, 2}, {3, 4}}},
		{Levels: []float64{1}, M: 0, MP: [][]float64{{1, 2}}},
		{Levels: []float64{1}, M: 1, MP: [][]float64{{1, math.NaN()}}},
		{Levels: []float64{1}, M: 1, MP: [][]float64{{1, 2}}, MN: [][]float64{{1}}},
		{Levels: []float64{1, 0.5}, M: 1, MP: [][]float64{{1, 2}, {3}}},
	}
	for i, e := range bad {
		if err := e.Validate(); err == nil {
			t.Errorf("bad embeddings %d validated", i)
		}
	}
}

// TestEmbeddingsShapeMismatch: data of another image size than the critic's is an error naming both shapes (it
// was a panic in the dataset's Image, as in `sample -dataset folder` on RGB images for an MNIST checkpoint).
func TestEmbeddingsShapeMismatch(t *testing.T) {
	c := newRFF(1, 2, 2, 8, 0.3, 1, 2) // 1x2x2 particles
	for _, dim := range []int{3, 12} {
		_, err := sample.ComputeEmbeddings(c, newCloud(10, dim, 4), []float64{1, 0.5}, sample.EmbedOptions{})
		if err == nil || !strings.Contains(err.Error(), "the critic takes 1x2x2") ||
			!strings.Contains(err.Error(), fmt.Sprintf("1x1x%d", dim)) {
			t.Errorf("data of %d values per image: %v", dim, err)
		}
		_, err = sample.Preview(c, newCloud(10, dim, 4), sample.PreviewOptions{})
		if err == nil || !strings.Contains(err.Error(), "the critic takes 1x2x2") {
			t.Errorf("preview with data of %d values per image: %v", dim, err)
		}
	}
}
