package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// updateGolden rewrites testdata/trainstep_golden.json from the current code. The file was written by the training
// step as it was before the loss variants (commit 2951345), so that TestTrainStepGolden can show the default loss
// with one group is bit for bit what it was.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/trainstep_golden.json")

const goldenPath = "testdata/trainstep_golden.json"

// goldenFile holds one hash per case. The bits depend on the architecture (fused multiply-adds) and, in float32,
// on the matrix-multiply kernel, so the file records both and is only checked where they match.
type goldenFile struct {
	GOARCH string            `json:"goarch"`
	BLAS   string            `json:"blas"`
	Cases  map[string]string `json:"cases"`
}

// goldenCase is one training step of the tiny preset with fixed parameters and inputs.
type goldenCase struct {
	name           string
	size, ch       int
	pool, dtype    string
	batch          int
	lc             LossConfig
	level          float64
	seed, dataSeed uint64
}

var goldenCases = []goldenCase{
	{"f64-3x8x8-flatten-default", 8, 3, "flatten", "float64", 4, DefaultLoss(), 0.3, 7, 1},
	{"f64-1x16x16-mean-interp", 16, 1, "mean", "float64", 4,
		LossConfig{LambdaL2: 0.1, LambdaGrad: 10, PenaltyAt: PenaltyAtInterp}, 0.7, 8, 2},
	{"f32-3x16x16-flatten-default", 16, 3, "flatten", "float32", 6, DefaultLoss(), 0.25, 9, 3},
	{"f32-3x8x8-flatten-interp-l2", 8, 3, "flatten", "float32", 4,
		LossConfig{LambdaL2: 1, LambdaGrad: 1, PenaltyAt: PenaltyAtInterp}, 0.05, 10, 4},
	// Large enough for the parallel kernels and the blocked GEMM to split their work.
	{"f32-3x32x32-flatten-default-b16", 32, 3, "flatten", "float32", 16, DefaultLoss(), 0.6, 11, 5},
}

// setup returns the parameters and the three input batches (z only with interpolates) of the case.
func (gc goldenCase) setup(t testing.TB) (p *Params, x, y, z []float32) {
	t.Helper()
	cfg := tinyConfig(t, gc.size, gc.ch, gc.pool)
	p64 := randomParams(t, cfg, gc.seed)
	cfg.DType = gc.dtype
	p, err := NewParams(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Specs() {
		if err := p.SetFloat64s(i, p64.Float64s(i)); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(gc.dataSeed, 5))
	n := gc.batch * cfg.InputSize()
	x, y = randomImages(n, rng), randomImages(n, rng)
	if gc.lc.interp() {
		z = randomImages(n, rng)
	}
	return p, x, y, z
}

// hashStep hashes the bits of the statistics and of every gradient value.
func hashStep(st Stats, grads *Params) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		h.Write(buf[:])
	}
	for _, v := range []float64{st.Loss, st.MMD2, st.L2, st.GradPenalty, st.GradNorm} {
		put(v)
	}
	for i := range grads.Specs() {
		for _, v := range grads.Float64s(i) {
			put(v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// runGolden runs the case once through the given step-runner and returns the hash.
func runGolden(t testing.TB, gc goldenCase, run func(s *TrainStep, x, y, z []float32) (Stats, error), lc LossConfig) string {
	t.Helper()
	p, x, y, z := gc.setup(t)
	s, err := NewTrainStep(p, gc.batch, lc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := run(s, x, y, z)
	if err != nil {
		t.Fatal(err)
	}
	return hashStep(st, s.Grads())
}

func runOne(level float64) func(s *TrainStep, x, y, z []float32) (Stats, error) {
	return func(s *TrainStep, x, y, z []float32) (Stats, error) {
		if z != nil {
			return s.RunAt(x, y, z, level)
		}
		return s.Run(x, y, level)
	}
}

func readGolden(t *testing.T) (goldenFile, bool) {
	t.Helper()
	var g goldenFile
	b, err := os.ReadFile(goldenPath)
	if errors.Is(err, fs.ErrNotExist) && *updateGolden {
		return g, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g, true
}

// TestTrainStepGolden checks that the loss and every gradient bit of a training step with the default options
// (one group, the unbiased MMD^2, the witness l2 term; through Run, RunAt or RunLevels) are those recorded before
// the loss variants existed.
func TestTrainStepGolden(t *testing.T) {
	if *updateGolden {
		g := goldenFile{GOARCH: runtime.GOARCH, BLAS: BLAS(), Cases: map[string]string{}}
		for _, gc := range goldenCases {
			g.Cases[gc.name] = runGolden(t, gc, runOne(gc.level), gc.lc)
		}
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	g, _ := readGolden(t)
	if g.GOARCH != runtime.GOARCH || g.BLAS != BLAS() {
		t.Skipf("golden hashes are for %s with %s; this is %s with %s", g.GOARCH, g.BLAS, runtime.GOARCH, BLAS())
	}
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			want, ok := g.Cases[gc.name]
			if !ok {
				t.Fatalf("no golden hash for %s", gc.name)
			}
			if got := runGolden(t, gc, runOne(gc.level), gc.lc); got != want {
				t.Errorf("Run: hash %s, want %s", got, want)
			}
			// One group, spelled out or not, through Run or RunLevels, and the default selectors spelled out: the
			// same graph and the same bits.
			levels := func(s *TrainStep, x, y, z []float32) (Stats, error) {
				return s.RunLevels(x, y, z, []float64{gc.level})
			}
			spelled := gc.lc
			spelled.MMD, spelled.L2, spelled.Groups = MMDUnbiased, L2Witness, 1
			for _, v := range []struct {
				name string
				run  func(s *TrainStep, x, y, z []float32) (Stats, error)
				lc   LossConfig
			}{
				{"RunLevels", levels, gc.lc},
				{"Groups=1/Run", runOne(gc.level), spelled},
				{"Groups=1/RunLevels", levels, spelled},
			} {
				if got := runGolden(t, gc, v.run, v.lc); got != want {
					t.Errorf("%s: hash %s, want %s", v.name, got, want)
				}
			}
		})
	}
}
