package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestParticipationRatioKnownCovariance: features whose covariance is known in closed form. Rows +-s_k e_k
// (each direction k used by a pair of rows, plus a common offset) have a diagonal covariance with eigenvalues
// proportional to s_k^2, so the ratio is (sum s_k^2)^2 / sum s_k^4: k for equal scales.
func TestParticipationRatioKnownCovariance(t *testing.T) {
	const d = 12
	for _, scales := range [][]float64{{1, 1, 1, 1, 1}, {3, 1}, {2, 0.5, 0.5, 1}, {7}} {
		n := 2 * len(scales)
		x := make([]float64, n*d)
		for k, s := range scales {
			for j := range d {
				x[2*k*d+j], x[(2*k+1)*d+j] = 0.3*float64(j), 0.3*float64(j) // the offset
			}
			x[2*k*d+k] += s
			x[(2*k+1)*d+k] -= s
		}
		var s2, s4 float64
		for _, s := range scales {
			s2 += s * s
			s4 += s * s * s * s
		}
		tr, pr := participationRatio(x, meanRow(x, n, d), n, d)
		if want := s2 * s2 / s4; !near(pr, want, 1e-12) {
			t.Errorf("scales %v: participation ratio %v, want %v", scales, pr, want)
		}
		if want := 2 * s2 / float64(n-1); !near(tr, want, 1e-12) {
			t.Errorf("scales %v: tr C = %v, want %v", scales, tr, want)
		}
	}
	x := make([]float64, 3*d) // no variation
	if _, pr := participationRatio(x, meanRow(x, 3, d), 3, d); pr != 0 {
		t.Errorf("constant rows: participation ratio %v, want 0", pr)
	}
}

// plainFeatureStats computes LevelDiag's feature statistics with plain loops from their definitions: pairwise
// kernel sums for the MMD, the d x d covariance for the participation ratio, the projection on c/||c|| for the
// variance along c.
func plainFeatureStats(a, b []float64, n, d int) LevelDiag {
	row := func(x []float64, i int) []float64 { return x[i*d : (i+1)*d] }
	dot := func(u, v []float64) float64 {
		var s float64
		for k := range u {
			s += u[k] * v[k]
		}
		return s
	}
	var kaa, kbb, kab float64
	for i := range n {
		for j := range n {
			if i != j {
				kaa += dot(row(a, i), row(a, j))
				kbb += dot(row(b, i), row(b, j))
			}
			kab += dot(row(a, i), row(b, j))
		}
	}
	nf := float64(n)
	var l LevelDiag
	l.MMD2 = kaa/(nf*(nf-1)) + kbb/(nf*(nf-1)) - 2*kab/(nf*nf)
	mean := func(x []float64) []float64 {
		m := make([]float64, d)
		for i := range n {
			for k := range d {
				m[k] += x[i*d+k] / nf
			}
		}
		return m
	}
	ma, mb := mean(a), mean(b)
	c := make([]float64, d)
	for k := range d {
		c[k] = mb[k] - ma[k]
	}
	l.MMD2Biased = dot(c, c)
	l.CNorm = math.Sqrt(l.MMD2Biased)
	stats := func(x []float64) (m, sd float64) {
		for i := range n {
			m += dot(row(x, i), c) / nf
		}
		for i := range n {
			sd += (dot(row(x, i), c) - m) * (dot(row(x, i), c) - m) / (nf - 1)
		}
		return m, math.Sqrt(sd)
	}
	l.WitnessNoisyMean, l.WitnessNoisyStd = stats(a)
	l.WitnessRefMean, l.WitnessRefStd = stats(b)
	cov := func(x, m []float64) [][]float64 {
		cv := make([][]float64, d)
		for p := range d {
			cv[p] = make([]float64, d)
			for q := range d {
				for i := range n {
					cv[p][q] += (x[i*d+p] - m[p]) * (x[i*d+q] - m[q]) / (nf - 1)
				}
			}
		}
		return cv
	}
	pr := func(cv [][]float64) (tr, ratio float64) {
		var tr2 float64
		for p := range d {
			tr += cv[p][p]
			for q := range d {
				tr2 += cv[p][q] * cv[q][p]
			}
		}
		return tr, tr * tr / tr2
	}
	_, l.PRNoisy = pr(cov(a, ma))
	cb := cov(b, mb)
	trB, prB := pr(cb)
	l.PRRef = prB
	var along float64 // u^T C_b u
	for p := range d {
		for q := range d {
			along += c[p] * cb[p][q] * c[q] / l.MMD2Biased
		}
	}
	l.VarAlongC = along / trB
	return l
}

func checkLevelStats(t *testing.T, what string, got, want LevelDiag, tol float64) {
	t.Helper()
	for _, f := range []struct {
		name   string
		g, w   float64
		absTol bool
	}{
		{"mmd2", got.MMD2, want.MMD2, true}, {"mmd2_biased", got.MMD2Biased, want.MMD2Biased, false},
		{"c_norm", got.CNorm, want.CNorm, false},
		{"witness_ref_mean", got.WitnessRefMean, want.WitnessRefMean, true},
		{"witness_ref_std", got.WitnessRefStd, want.WitnessRefStd, false},
		{"witness_noisy_mean", got.WitnessNoisyMean, want.WitnessNoisyMean, true},
		{"witness_noisy_std", got.WitnessNoisyStd, want.WitnessNoisyStd, false},
		{"pr_ref", got.PRRef, want.PRRef, false}, {"pr_noisy", got.PRNoisy, want.PRNoisy, false},
		{"var_along_c", got.VarAlongC, want.VarAlongC, false},
	} {
		scale := math.Abs(f.w)
		if f.absTol {
			scale = math.Max(scale, want.MMD2Biased) // means and MMD^2 are differences of terms of this size
		}
		if math.Abs(f.g-f.w) > tol*math.Max(scale, 1e-300) || math.IsNaN(f.g) {
			t.Errorf("%s: %s = %v, want %v", what, f.name, f.g, f.w)
		}
	}
}

// TestFeatureStatsMatchPlainLoops: the statistics of random feature sets (shifted far from the origin, and with a
// few dominant directions) against the plain-loop definitions.
func TestFeatureStatsMatchPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct{ n, d int }{{2, 3}, {7, 5}, {20, 16}} {
		a, b := make([]float64, tc.n*tc.d), make([]float64, tc.n*tc.d)
		for i := range a {
			k := i % tc.d
			a[i] = 5 + rng.NormFloat64()*float64(1+k%3)
			b[i] = 5.5 + rng.NormFloat64()*float64(1+k%2) + 0.1*float64(k)
		}
		got, c, err := featureStats(a, b, tc.n, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		want := plainFeatureStats(a, b, tc.n, tc.d)
		checkLevelStats(t, "random features", got, want, 1e-10)
		if len(c) != tc.d || !near(math.Sqrt(c[0]*c[0]+sumSq(c[1:])), want.CNorm, 1e-12) {
			t.Errorf("c = %v, ||c|| want %v", c, want.CNorm)
		}
	}
}

func sumSq(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return s
}

// tinyF64 returns the tiny preset at 8x8x1 in float64, initialised from seed.
func tinyF64(t testing.TB, seed uint64) *model.Params {
	t.Helper()
	m, err := model.Preset("tiny", 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.DType = "float64"
	p, err := model.Init(m, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDiagnoseMatchesIndependentComputation runs the diagnostics of the tiny preset on known images and noise and
// recomputes every statistic independently: the features one image at a time with a graph of batch 1, the
// statistics with plain loops, and the witness gradient by central finite differences of f(z) = <phi(z; t), c>
// (float64 weights), from which the cosine with x0 - x_t and the gradient norm follow. Also with a reference set
// noised to a level s (RefLevel).
func TestDiagnoseMatchesIndependentComputation(t *testing.T) {
	p := tinyF64(t, 5)
	cfg := p.Config()
	size, d := cfg.InputSize(), cfg.FeatureDim
	sched := diffusion.Default()
	ds := synthetic(t, 10, 9)
	const n = 5
	set := diagSet{y: make([]float32, n*size), x0: make([]float32, n*size), eps: make([]float32, n*size)}
	epsRef := make([]float32, n*size)
	for i := range n {
		ds.Image(i, set.y[i*size:(i+1)*size])
		ds.Image(n+i, set.x0[i*size:(i+1)*size])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range set.eps {
		set.eps[i], epsRef[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	set.epsRef = func() []float32 { return epsRef }

	one, err := model.NewFeatures(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	phi := func(z []float32, level float64) []float64 {
		out32 := make([]float32, d)
		if err := one.Run(z, level, out32); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, d)
		for k, v := range out32 {
			out[k] = float64(v)
		}
		return out
	}
	noise := func(x, e []float32, level float64) []float32 {
		al, be := sched.AlphaBeta(level)
		out := make([]float32, len(x))
		for k := range x {
			out[k] = float32(al*float64(x[k]) + be*float64(e[k]))
		}
		return out
	}

	for _, tc := range []struct {
		name string
		ref  func(float64) float64
	}{{"clean reference", nil}, {"reference at s = t/2", func(t float64) float64 { return t / 2 }}} {
		levels := []float64{0.05, 0.5, 1}
		opt := DiagOptions{N: n, Levels: levels, Chunk: 2, RefLevel: tc.ref} // chunks of 2, 2, 1
		got, err := diagnose(p, sched, opt, set)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != n || len(got.Levels) != len(levels) {
			t.Fatalf("%s: %d levels, n %d", tc.name, len(got.Levels), got.N)
		}
		for li, level := range levels {
			s := 0.0
			if tc.ref != nil {
				s = tc.ref(level)
			}
			a, b := make([]float64, 0, n*d), make([]float64, 0, n*d)
			xt := make([][]float32, n)
			for i := range n {
				xt[i] = noise(set.x0[i*size:(i+1)*size], set.eps[i*size:(i+1)*size], level)
				r := set.y[i*size : (i+1)*size]
				if s > 0 {
					r = noise(r, epsRef[i*size:(i+1)*size], s)
				}
				a = append(a, phi(xt[i], level)...)
				b = append(b, phi(r, level)...)
			}
			want := plainFeatureStats(a, b, n, d)
			lv := got.Levels[li]
			if lv.T != level || lv.RefT != s {
				t.Errorf("%s: level %d is t = %v, s = %v; want %v, %v", tc.name, li, lv.T, lv.RefT, level, s)
			}
			checkLevelStats(t, tc.name, lv, want, 1e-5) // float32 features, batch 1 vs batches of 2

			c := make([]float64, d)
			for k := range d {
				c[k] = (b[k] - a[k]) / n
			}
			for i := 1; i < n; i++ {
				for k := range d {
					c[k] += (b[i*d+k] - a[i*d+k]) / n
				}
			}
			f := func(z []float32) float64 {
				v := phi(z, level)
				var s float64
				for k := range d {
					s += v[k] * float64(float32(c[k])) // the graph takes c in float32
				}
				return s
			}
			const h = 1e-2
			var cos, norm, stepCos float64
			for i := range n {
				g := make([]float64, size)
				z := append([]float32(nil), xt[i]...)
				for k := range size {
					z[k] = xt[i][k] + h
					fp := f(z)
					z[k] = xt[i][k] - h
					fm := f(z)
					z[k] = xt[i][k]
					g[k] = (fp - fm) / (2 * h)
				}
				var gr, gg, rr float64
				for k := range size {
					r := float64(set.x0[i*size+k]) - float64(xt[i][k])
					gr += g[k] * r
					gg += g[k] * g[k]
					rr += r * r
				}
				cos += gr / math.Sqrt(gg*rr) / n
				norm += math.Sqrt(gg) / n
				// The step to the same image with the same noise at s (the clean image when s = 0).
				xs := set.x0[i*size : (i+1)*size]
				if s > 0 {
					xs = noise(xs, set.eps[i*size:(i+1)*size], s)
				}
				gr, rr = 0, 0
				for k := range size {
					r := float64(xs[k]) - float64(xt[i][k])
					gr += g[k] * r
					rr += r * r
				}
				stepCos += gr / math.Sqrt(gg*rr) / n
			}
			if math.Abs(lv.StepCos-stepCos) > 1e-4*math.Abs(stepCos)+1e-5 {
				t.Errorf("%s: t = %v: step cosine %v; finite differences give %v", tc.name, level, lv.StepCos, stepCos)
			}
			if s > 0 && math.Abs(stepCos-cos) < 1e-3 {
				t.Errorf("%s: t = %v: the step and clean-image cosines agree (%v): the test cannot tell them apart", tc.name, level, cos)
			}
			// Measured: cosines agree to 2e-6 and norms to 1e-6 relative (the finite differences' own error).
			if math.Abs(lv.GradCos-cos) > 1e-4*math.Abs(cos)+1e-5 || math.Abs(lv.GradNorm-norm) > 1e-4*norm {
				t.Errorf("%s: t = %v: gradient cosine %v, norm %v; finite differences give %v, %v", tc.name, level,
					lv.GradCos, lv.GradNorm, cos, norm)
			}
		}
	}
}

// TestDiagnoseCriticIsReproducible: the same data, seed and options give the same numbers bit for bit, whatever
// the chunk size; another seed chooses other images; the two sets are disjoint images of the dataset.
func TestDiagnoseCriticIsReproducible(t *testing.T) {
	p := tinyF64(t, 2)
	ds := synthetic(t, 30, 3)
	run := func(o DiagOptions) *CriticDiag {
		t.Helper()
		d, err := DiagnoseCritic(p, ds, diffusion.Default(), o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := DiagOptions{N: 12, Levels: []float64{0.1, 0.9}}
	a := run(base)
	b := run(DiagOptions{N: 12, Levels: []float64{0.1, 0.9}, Chunk: 5})
	for i := range a.Levels {
		if a.Levels[i] != b.Levels[i] {
			t.Errorf("chunk 12 vs 5 at t = %v:\n%+v\n%+v", a.Levels[i].T, a.Levels[i], b.Levels[i])
		}
	}
	other := run(DiagOptions{N: 12, Levels: []float64{0.1, 0.9}, Seed: 1})
	if other.Levels[0].MMD2 == a.Levels[0].MMD2 || other.Seed != 1 {
		t.Errorf("seed 1 gives seed 0's numbers")
	}
	s := diagImages(ds, 15, 0) // all 30 images: y and x0 together are a permutation of the dataset
	size := ds.Shape().Size()
	seen := map[string]bool{}
	for _, x := range [][]float32{s.y, s.x0} {
		for i := range 15 {
			seen[string(float32Bytes(x[i*size:(i+1)*size]))] = true
		}
	}
	distinct := map[string]bool{}
	img := make([]float32, size)
	for i := range ds.Len() {
		ds.Image(i, img)
		distinct[string(float32Bytes(img))] = true
	}
	if len(seen) != len(distinct) {
		t.Errorf("the two sets hold %d distinct images of the dataset's %d", len(seen), len(distinct))
	}
}

func float32Bytes(v []float32) []byte {
	out := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b := math.Float32bits(x)
		out = append(out, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	}
	return out
}

func TestDiagnoseCriticErrors(t *testing.T) {
	p := tinyF64(t, 1)
	ds := synthetic(t, 10, 1)
	rgb, _ := data.NewU8(data.Shape{C: 3, H: 8, W: 8}, make([]uint8, 10*3*64), nil)
	for _, tc := range []struct {
		ds   data.Dataset
		opt  DiagOptions
		want string
	}{
		{ds, DiagOptions{N: 6}, "need 2n = 12"},
		{ds, DiagOptions{N: 1}, "at least 2"},
		{ds, DiagOptions{N: 4, Levels: []float64{0.5, 1.5}}, "level 1.5 outside"},
		{ds, DiagOptions{N: 4, Levels: []float64{}}, "no levels"},
		{ds, DiagOptions{N: 4, RefLevel: func(float64) float64 { return -1 }}, "RefLevel"},
		{rgb, DiagOptions{N: 4}, "the model takes 1x8x8"},
	} {
		_, err := DiagnoseCritic(p, tc.ds, diffusion.Default(), tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "train: ") {
			t.Errorf("%+v: error %v, want one containing %q", tc.opt, err, tc.want)
		}
	}
}

// TestDiagnoseCriticReleasesGraphs: every call builds and closes its graphs, so the heap does not grow over calls.
func TestDiagnoseCriticReleasesGraphs(t *testing.T) {
	p := tinyF64(t, 1)
	ds := synthetic(t, 16, 1)
	call := func() {
		if _, err := DiagnoseCritic(p, ds, diffusion.Default(), DiagOptions{N: 8, Levels: []float64{0.3}}); err != nil {
			t.Fatal(err)
		}
	}
	call()
	base := heapAfterGC(0)
	for range 8 {
		call()
	}
	const slack = 1 << 20
	if after := heapAfterGC(base + slack); after > base+slack {
		t.Errorf("heap grew from %.2f to %.2f MiB over 8 calls", mib(base), mib(after))
	}
}
