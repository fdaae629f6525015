package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestWitnessGradFiniteDifferences checks grad_z <phi(z; t), dir> against central differences of the witness value
// computed by the Features graph, in float64, for shared and per-particle directions.
func TestWitnessGradFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		size, ch    int
		pool        string
		perParticle bool
	}{
		{8, 1, "flatten", false}, {8, 3, "flatten", true}, {16, 3, "flatten", false}, {8, 3, "mean", true},
		{8, 3, "flatten+hidden", true}, {16, 1, "mean+hidden", false},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d-%s-perparticle=%t", tc.ch, tc.size, tc.size, tc.pool, tc.perParticle), func(t *testing.T) {
			cfg := tinyConfig(t, tc.size, tc.ch, tc.pool)
			p := randomParams(t, cfg, 11)
			const batch, level = 3, 0.2
			w, err := NewWitness(p, batch)
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFeatures(p, batch)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(8, 8))
			fillNormal(w.z, rng, 1)
			z := w.z.Data().([]float64)
			dirs := w.dirs.Data().([]float64)
			d := cfg.FeatureDim
			for i := range dirs {
				if tc.perParticle || i < d {
					dirs[i] = rng.NormFloat64()
				} else {
					dirs[i] = dirs[i%d]
				}
			}
			if err := w.run(level); err != nil {
				t.Fatal(err)
			}
			grad := append([]float64(nil), (*w.grad).(*tensor.Dense).Data().([]float64)...)
			x := f.x.Data().([]float64)
			value := func() float64 {
				if err := f.run(level); err != nil {
					t.Fatal(err)
				}
				return dot((*f.out).(*tensor.Dense).Data().([]float64), dirs)
			}
			copy(x, z)
			var maxErr, maxG float64
			for _, j := range sampleIndices(len(z), 40, rng) {
				const h = 1e-5
				old := x[j]
				x[j] = old + h
				vp := value()
				x[j] = old - h
				vm := value()
				x[j] = old
				fd := (vp - vm) / (2 * h)
				maxErr = math.Max(maxErr, math.Abs(fd-grad[j]))
				maxG = math.Max(maxG, math.Max(math.Abs(fd), math.Abs(grad[j])))
			}
			rel := maxErr / maxG
			t.Logf("max |fd - grad| %.3g, relative %.3g (max |grad| %.3g)", maxErr, rel, maxG)
			if rel > 1e-6 {
				t.Errorf("relative error %.3g > 1e-6", rel)
			}
		})
	}
}

// TestLossMatchesReference recomputes every reported loss term from the Features and Witness graphs and plain Go:
// the naive O(B^2 D) MMD, the l2 penalty and the gradient penalty.
func TestLossMatchesReference(t *testing.T) {
	cfg := tinyConfig(t, 8, 3, "flatten")
	p := referenceParams(t, cfg)
	const batch, level = 5, 0.6
	lc := LossConfig{LambdaL2: 0.3, LambdaGrad: 2}
	s, err := NewTrainStep(p, batch, lc)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	fillNormal(s.x, rng, 1)
	fillNormal(s.y, rng, 1)
	x, y := s.x.Data().([]float64), s.y.Data().([]float64)
	st, err := s.runStats([]float64{level})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := NewFeatures(p, batch)
	d := cfg.FeatureDim
	a, b := featuresAt(t, f, level, x), featuresAt(t, f, level, y)
	mmd := naiveMMD2(a, b, d)
	c := make([]float64, d)
	for k := 0; k < d; k++ {
		for i := 0; i < batch; i++ {
			c[k] += (b[i*d+k] - a[i*d+k]) / batch
		}
	}
	var l2 float64
	for i := 0; i < batch; i++ {
		fa, fb := dot(a[i*d:(i+1)*d], c), dot(b[i*d:(i+1)*d], c)
		l2 += (fa*fa + fb*fb) / (2 * batch)
	}
	w, _ := NewWitness(p, batch)
	var pen, gn float64
	for _, norm := range witnessGradNorms(t, w, level, x, c) {
		pen += (norm - 1) * (norm - 1) / batch
		gn += norm / batch
	}
	checkReferenceStats(t, st, lc, mmd, l2, pen, gn)
}

// referenceParams are the parameters of the reference tests of the loss: random, with the head scaled so that
// witness gradients are O(1) and the penalty's sign matters.
func referenceParams(t *testing.T, cfg Config) *Params {
	t.Helper()
	p := randomParams(t, cfg, 5)
	hw := p.Index("head.weight")
	v := p.Float64s(hw)
	for i := range v {
		v[i] *= 12
	}
	if err := p.SetFloat64s(hw, v); err != nil {
		t.Fatal(err)
	}
	return p
}

// featuresAt runs the Features graph on the images in at the given level and returns a copy of phi.
func featuresAt(t *testing.T, f *Features, level float64, in []float64) []float64 {
	t.Helper()
	copy(f.x.Data().([]float64), in)
	if err := f.run(level); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), (*f.out).(*tensor.Dense).Data().([]float64)...)
}

// witnessGradNorms runs the Witness graph at the given level on the images z, with direction c for every row,
// and returns ||grad_z <phi(z_i; t), c>|| for each row i.
func witnessGradNorms(t *testing.T, w *Witness, level float64, z, c []float64) []float64 {
	t.Helper()
	copy(w.z.Data().([]float64), z)
	dirs := w.dirs.Data().([]float64)
	rows := len(dirs) / len(c)
	for i := 0; i < rows; i++ {
		copy(dirs[i*len(c):], c)
	}
	if err := w.run(level); err != nil {
		t.Fatal(err)
	}
	g := (*w.grad).(*tensor.Dense).Data().([]float64)
	size := len(g) / rows
	norms := make([]float64, rows)
	for i := range norms {
		gi := g[i*size : (i+1)*size]
		norms[i] = math.Sqrt(dot(gi, gi))
	}
	return norms
}

// checkReferenceStats compares a step's reported terms with those recomputed in plain Go (the loss from the other
// three and lc's weights), to 1e-9 relative, and checks that the witness gradients are large enough for the
// penalty check to mean something.
func checkReferenceStats(t *testing.T, st Stats, lc LossConfig, mmd, l2, pen, gn float64) {
	t.Helper()
	loss := -mmd + lc.LambdaL2*l2 + lc.LambdaGrad*pen
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"mmd2", st.MMD2, mmd}, {"l2", st.L2, l2}, {"grad penalty", st.GradPenalty, pen},
		{"grad norm", st.GradNorm, gn}, {"loss", st.Loss, loss},
	} {
		if math.Abs(tc.got-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%s = %.12g, reference %.12g", tc.name, tc.got, tc.want)
		}
	}
	if gn < 0.2 {
		t.Errorf("witness gradients too small (%v) for a meaningful penalty check", gn)
	}
}

// naiveMMD2 is the O(B^2 D) double sum of the unbiased MMD^2 under the linear kernel.
func naiveMMD2(a, b []float64, d int) float64 {
	n, m := len(a)/d, len(b)/d
	k := func(u, v []float64, i, j int) float64 { return dot(u[i*d:(i+1)*d], v[j*d:(j+1)*d]) }
	var xx, yy, xy float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				xx += k(a, a, i, j)
			}
		}
		for j := 0; j < m; j++ {
			xy += k(a, b, i, j)
		}
	}
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			if i != j {
				yy += k(b, b, i, j)
			}
		}
	}
	return xx/float64(n*(n-1)) + yy/float64(m*(m-1)) - 2*xy/float64(n*m)
}

func TestMMD2UnbiasedMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, tc := range []struct{ n, m, d int }{{2, 2, 1}, {5, 7, 3}, {64, 64, 512}, {30, 10, 17}} {
		a, b := randSlice(tc.n*tc.d, rng), randSlice(tc.m*tc.d, rng)
		for i := range b {
			b[i] += 0.3 // a real difference
		}
		got, err := MMD2Unbiased(a, b, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveMMD2(a, b, tc.d); math.Abs(got-want) > 1e-10 {
			t.Errorf("%+v: O(BD) formula %.15g, naive %.15g", tc, got, want)
		}
	}
	for _, tc := range []struct {
		a, b []float64
		d    int
	}{{make([]float64, 3), make([]float64, 4), 2}, {make([]float64, 2), make([]float64, 4), 2}, {nil, nil, 0}} {
		if _, err := MMD2Unbiased(tc.a, tc.b, tc.d); err == nil {
			t.Errorf("MMD2Unbiased accepted %d, %d values with d=%d", len(tc.a), len(tc.b), tc.d)
		}
	}
}

// TestBatchIndependence checks that a particle's features and witness gradient do not depend on the batch it is
// computed in (padding, position, other rows), bit for bit, in float32.
func TestBatchIndependence(t *testing.T) {
	cfg, err := Preset("tiny", 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Init(cfg, 3)
	rng := rand.New(rand.NewPCG(12, 12))
	size, d := cfg.InputSize(), cfg.FeatureDim
	z := randomImages(6*size, rng)
	dir := randomImages(d, rng)
	run := func(batch int) ([]float32, []float32) {
		w, err := NewWitness(p, batch)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := NewFeatures(p, batch)
		grads, feats := make([]float32, len(z)), make([]float32, 6*d)
		for lo := 0; lo < 6; lo += batch {
			hi := min(lo+batch, 6)
			if err := w.Grad(z[lo*size:hi*size], 0.4, dir, grads[lo*size:hi*size]); err != nil {
				t.Fatal(err)
			}
			if err := f.Run(z[lo*size:hi*size], 0.4, feats[lo*d:hi*d]); err != nil {
				t.Fatal(err)
			}
		}
		return grads, feats
	}
	g6, f6 := run(6)
	for _, b := range []int{1, 4, 5} {
		g, f := run(b)
		for i := range g6 {
			if g[i] != g6[i] {
				t.Fatalf("batch %d: gradient %d differs: %v vs %v", b, i, g[i], g6[i])
			}
		}
		for i := range f6 {
			if f[i] != f6[i] {
				t.Fatalf("batch %d: feature %d differs: %v vs %v", b, i, f[i], f6[i])
			}
		}
	}
}

func TestRunInputValidation(t *testing.T) {
	cfg, _ := Preset("tiny", 8, 1)
	p, _ := Init(cfg, 1)
	w, err := NewWitness(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	size, d := cfg.InputSize(), cfg.FeatureDim
	z := make([]float32, 2*size)
	for _, tc := range []struct {
		name      string
		z, dir, o []float32
		t         float64
	}{
		{"ragged z", z[:size+1], make([]float32, d), make([]float32, size+1), 0.5},
		{"too many rows", make([]float32, 3*size), make([]float32, d), make([]float32, 3*size), 0.5},
		{"bad dirs", z, make([]float32, d+1), make([]float32, len(z)), 0.5},
		{"short out", z, make([]float32, d), make([]float32, size), 0.5},
		{"level above 1", z, make([]float32, d), make([]float32, len(z)), 1.5},
		{"NaN level", z, make([]float32, d), make([]float32, len(z)), math.NaN()},
		{"empty", nil, make([]float32, d), nil, 0.5},
	} {
		if err := w.Grad(tc.z, tc.t, tc.dir, tc.o); err == nil {
			t.Errorf("%s: Grad accepted bad input", tc.name)
		}
	}
	s, _ := NewTrainStep(p, 2, DefaultLoss())
	if _, err := s.Run(z[:size], z, 0.5); err == nil {
		t.Error("TrainStep accepted a short noisy batch")
	}
	if _, err := NewTrainStep(p, 1, DefaultLoss()); err == nil {
		t.Error("TrainStep accepted batch 1")
	}
	if _, err := NewTrainStep(p, 2, LossConfig{LambdaL2: -1}); err == nil {
		t.Error("TrainStep accepted a negative weight")
	}
}

// TestMMD2UnbiasedFarFromOrigin shifts both feature sets by a common offset up to 1e8: the O(BD) expansion
// ||sum a||^2 - sum ||a_i||^2 cancels catastrophically there unless the rows are centred first. The reference is
// the pairwise formula on the same rows with the offset taken off again (exact: x - off is exact for x near off).
func TestMMD2UnbiasedFarFromOrigin(t *testing.T) {
	const n, m, d = 20, 24, 8
	for _, off := range []float64{0, 1e4, 1e6, 1e7, 1e8} {
		rng := rand.New(rand.NewPCG(13, 13))
		a, b := randSlice(n*d, rng), randSlice(m*d, rng)
		for i := range b {
			b[i] += 0.5
		}
		a0, b0 := make([]float64, len(a)), make([]float64, len(b))
		for _, s := range []struct{ x, x0 []float64 }{{a, a0}, {b, b0}} {
			for i := range s.x {
				s.x[i] += off
				s.x0[i] = s.x[i] - off
			}
		}
		got, err := MMD2Unbiased(a, b, d)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveMMD2(a0, b0, d); math.Abs(got-want) > 1e-10 {
			t.Errorf("offset %g: %.15g, pairwise on the unshifted rows %.15g", off, got, want)
		}
	}
}

func TestMMD2UnbiasedNonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		a, b := make([]float64, 6), make([]float64, 6)
		b[4] = v
		_, err := MMD2Unbiased(a, b, 3)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("b row 1, value 1 is %v", v)) {
			t.Errorf("%v in b: err = %v", v, err)
		}
	}
}
