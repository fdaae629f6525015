package mmd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func mustRows(t testing.TB, rows [][]float64) Points {
	t.Helper()
	p, err := PointsFromRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func column(vals ...float64) [][]float64 {
	rows := make([][]float64, len(vals))
	for i, v := range vals {
		rows[i] = []float64{v}
	}
	return rows
}

// shogunA is data set A of shogun's QuadraticTimeMMD unit tests: a 3x16
// column-major matrix with entry i equal to i (column j = [3j, 3j+1, 3j+2]);
// P is columns 0..7 divided by their maximum 23, Q columns 8..15 divided by
// their maximum 47.
func shogunA() (p, q [][]float64) {
	for j := range 16 {
		c := []float64{float64(3 * j), float64(3*j + 1), float64(3*j + 2)}
		if j < 8 {
			for i := range c {
				c[i] /= 23
			}
			p = append(p, c)
		} else {
			for i := range c {
				c[i] /= 47
			}
			q = append(q, c)
		}
	}
	return p, q
}

// TestShogunReference checks the estimators against the reference values of
// shogun's tests/unit/statistical_testing/QuadraticTimeMMD_unittest.cc,
// which use the kernel exp(-||x-y||^2/w) and report the statistic times
// mn/(m+n).
func TestShogunReference(t *testing.T) {
	aP, aQ := shogunA()
	tests := []struct {
		name     string
		p, q     [][]float64
		width    float64 // shogun's w in exp(-||x-y||^2/w)
		unbiased bool
		want     float64 // MMD^2
		shogun   float64 // shogun's statistic, want * mn/(m+n)
	}{
		{"A biased", aP, aQ, 8, false, 0.04470636621694801, 0.17882546486779649},
		{"A unbiased", aP, aQ, 8, true, 0.03360023584033289, 0.13440094336133723},
		{"B unbiased m!=n",
			column(0.61318059, -0.69222999, 0.94424411, -0.48769626, -0.00709551),
			column(0.35025598, 0.20741384, -0.63622519, -1.21315264, -0.77349617, -0.42707091),
			2, true, -0.013750123981072448, -0.037500338130199401},
		{"B biased m!=n",
			column(-0.47616889, -2.1767364, -0.04185537, -1.20787529, 1.94875193),
			column(-0.16695709, 2.51282666, -0.58116389, 1.52366887, 0.18985099, 0.76120258),
			2, false, 0.1995360243660721, 0.54418915736201567},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := Gaussian{Sigma: math.Sqrt(tc.width / 2)}
			est := MMD2Biased
			if tc.unbiased {
				est = MMD2Unbiased
			}
			got, err := est(k, mustRows(t, tc.p), mustRows(t, tc.q))
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(got - tc.want); d > 1e-12 {
				t.Errorf("MMD^2 = %.17g, want %.17g (diff %.2g)", got, tc.want, d)
			}
			m, n := float64(len(tc.p)), float64(len(tc.q))
			if d := math.Abs(got*m*n/(m+n) - tc.shogun); d > 1e-12 {
				t.Errorf("shogun statistic = %.17g, want %.17g (diff %.2g)", got*m*n/(m+n), tc.shogun, d)
			}
		})
	}
}

func randPoints(r *rand.Rand, n, d int, shift float64) Points {
	p := Points{Data: make([]float64, n*d), Dim: d}
	for i := range p.Data {
		p.Data[i] = r.NormFloat64() + shift
	}
	return p
}

// checkMMD2Pairwise checks MMD2Biased and MMD2Unbiased on x and y against naiveMMD2's pairwise sums, to within
// tol(want); where says which case failed.
func checkMMD2Pairwise(t *testing.T, where string, k Kernel, x, y Points, tol func(want float64) float64) {
	t.Helper()
	for _, unbiased := range []bool{false, true} {
		est := MMD2Biased
		if unbiased {
			est = MMD2Unbiased
		}
		got, err := est(k, x, y)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveMMD2(k, x, y, unbiased)
		if math.Abs(got-want) > tol(want) {
			t.Errorf("%s%v unbiased=%v: got %.15g, pairwise %.15g", where, k, unbiased, got, want)
		}
	}
}

// relTol is 1e-12 relative to the MMD^2 (absolute below 1).
func relTol(want float64) float64 { return 1e-12 * math.Max(1, math.Abs(want)) }

// kernelScaleTol is 1e-12 of the kernel's scale k(x_0, x_0) (at least 1), whatever the MMD^2: the three sums
// are of size ~n^2 k, so cancellation in them shows at that scale.
func kernelScaleTol(k Kernel, x Points) func(float64) float64 {
	scale := math.Max(1, math.Abs(k.Eval(x.Row(0), x.Row(0))))
	return func(float64) float64 { return 1e-12 * scale }
}

// naiveMMD2 is the textbook double loop over all pairs.
func naiveMMD2(k Kernel, x, y Points, unbiased bool) float64 {
	sum := func(a, b Points, skipDiag bool) float64 {
		var s float64
		for i := range a.Len() {
			for j := range b.Len() {
				if skipDiag && i == j {
					continue
				}
				s += k.Eval(a.Row(i), b.Row(j))
			}
		}
		return s
	}
	m, n := float64(x.Len()), float64(y.Len())
	if unbiased {
		return sum(x, x, true)/(m*(m-1)) + sum(y, y, true)/(n*(n-1)) - 2*sum(x, y, false)/(m*n)
	}
	return sum(x, x, false)/(m*m) + sum(y, y, false)/(n*n) - 2*sum(x, y, false)/(m*n)
}

func TestEstimatorsMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := randPoints(r, 300, 4, 0), randPoints(r, 250, 4, 0.3)
	kernels := []Kernel{Gaussian{Sigma: 1.3}, IMQ{C: 1, Beta: -0.5}, MixedRQ{}, MixedRQ{Linear: true}, Linear{}, KIDKernel()}
	for _, k := range kernels {
		checkMMD2Pairwise(t, "", k, x, y, relTol)
	}
}

// TestEstimatorDeterministicAcrossCores checks that the parallel reduction
// gives bit-identical results whatever the number of cores.
func TestEstimatorDeterministicAcrossCores(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{3, 40} {
		x, y := randPoints(r, 700, d, 0), randPoints(r, 600, d, 0.1)
		k := Gaussian{Sigma: 1}
		prev := runtime.GOMAXPROCS(1)
		one, err := MMD2Unbiased(k, x, y)
		w1, _ := NewWitness(k, y, x)
		g1, _ := w1.Grads(x)
		runtime.GOMAXPROCS(max(4, prev))
		many, err2 := MMD2Unbiased(k, x, y)
		g2, _ := w1.Grads(x)
		runtime.GOMAXPROCS(prev)
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		if one != many {
			t.Errorf("d=%d: 1 core %.17g != several cores %.17g", d, one, many)
		}
		if maxAbsDiff(g1.Data, g2.Data) != 0 {
			t.Errorf("d=%d: witness gradients depend on the number of cores", d)
		}
	}
}

func TestBiasedIsNonNegativeAndZeroOnSelf(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randPoints(r, 50, 2, 0)
	got, err := MMD2Biased(Gaussian{Sigma: 1}, x, x)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got) > 1e-14 {
		t.Errorf("MMD_b^2(x, x) = %g, want 0", got)
	}
}

func TestEstimatorErrors(t *testing.T) {
	one := Points{Data: []float64{1, 2}, Dim: 2}
	two := Points{Data: []float64{1, 2, 3, 4}, Dim: 2}
	three1d := Points{Data: []float64{1, 2, 3}, Dim: 1}
	tests := []struct {
		name     string
		k        Kernel
		x, y     Points
		unbiased bool
		want     error
	}{
		{"empty", Gaussian{Sigma: 1}, Points{}, two, false, ErrEmpty},
		{"one point unbiased", Gaussian{Sigma: 1}, one, two, true, ErrEmpty},
		{"dim mismatch", Gaussian{Sigma: 1}, two, three1d, false, ErrDim},
		{"ragged data", Gaussian{Sigma: 1}, Points{Data: []float64{1, 2, 3}, Dim: 2}, two, false, ErrDim},
		{"bad kernel", Gaussian{}, two, two, false, ErrParam},
		{"nil kernel", nil, two, two, true, ErrParam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			est := MMD2Biased
			if tc.unbiased {
				est = MMD2Unbiased
			}
			_, err := est(tc.k, tc.x, tc.y)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err.Error()[:5] != "mmd: " {
				t.Errorf("error %q lacks the mmd: prefix", err)
			}
		})
	}
}

func TestPointsFromRows(t *testing.T) {
	if _, err := PointsFromRows([][]float64{{1, 2}, {3}}); !errors.Is(err, ErrDim) {
		t.Errorf("ragged rows: err = %v", err)
	}
	if _, err := PointsFromRows(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("no rows: err = %v", err)
	}
	if _, err := NewPoints(3, 0); !errors.Is(err, ErrParam) {
		t.Errorf("dim 0: err = %v", err)
	}
	p := mustRows(t, [][]float64{{1, 2}, {3, 4}, {5, 6}})
	if p.Len() != 3 || p.Row(2)[1] != 6 || len(p.Rows()) != 3 {
		t.Errorf("bad layout: %+v", p)
	}
	c := p.Clone()
	c.Data[0] = 9
	if p.Data[0] != 1 {
		t.Error("Clone shares storage")
	}
}

// TestEstimatorsMatchNaiveHighDim covers the matrix-product path used from
// dimension 8, for every kernel.
func TestEstimatorsMatchNaiveHighDim(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, d := range []int{gemmMinDim, 40} {
		x, y := randPoints(r, 150, d, 0), randPoints(r, 140, d, 0.2)
		for _, k := range []Kernel{Gaussian{Sigma: 4}, IMQ{C: 1, Beta: -0.5}, MixedRQ{}, MixedRQ{Linear: true}, Linear{}, KIDKernel()} {
			checkMMD2Pairwise(t, fmt.Sprintf("d=%d ", d), k, x, y, kernelScaleTol(k, x))
		}
	}
}
