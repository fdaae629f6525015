package mmd_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dmmd/dmmd/mmd"
)

func ExampleMMD2Unbiased() {
	// Data set B of shogun's QuadraticTimeMMD tests, kernel exp(-||x-y||^2/2).
	x, _ := mmd.PointsFromRows([][]float64{{0.61318059}, {-0.69222999}, {0.94424411}, {-0.48769626}, {-0.00709551}})
	y, _ := mmd.PointsFromRows([][]float64{{0.35025598}, {0.20741384}, {-0.63622519}, {-1.21315264}, {-0.77349617}, {-0.42707091}})
	u, err := mmd.MMD2Unbiased(mmd.Gaussian{Sigma: 1}, x, y)
	if err != nil {
		panic(err)
	}
	b, _ := mmd.MMD2Biased(mmd.Gaussian{Sigma: 1}, x, y)
	fmt.Printf("unbiased %.6f, biased %.6f\n", u, b)
	// Output: unbiased -0.013750, biased 0.096676
}

func ExampleWitness() {
	data, _ := mmd.PointsFromRows([][]float64{{-1}, {-1.2}, {-0.8}})
	particles, _ := mmd.PointsFromRows([][]float64{{1}, {1.1}})
	w, err := mmd.NewWitness(mmd.Gaussian{Sigma: 0.5}, data, particles)
	if err != nil {
		panic(err)
	}
	atData, _ := w.Value([]float64{-1})
	atParticles, _ := w.Value([]float64{1})
	g := make([]float64, 1)
	_ = w.Grad(g, []float64{0})
	fmt.Printf("f(-1) = %.3f, f(1) = %.3f, f'(0) = %.3f (points towards the data)\n", atData, atParticles, g[0])
	// Output: f(-1) = 0.949, f(1) = -0.989, f'(0) = -1.033 (points towards the data)
}

func ExampleFlow() {
	r := rand.New(rand.NewPCG(1, 1))
	target, _ := mmd.NewPoints(200, 2)
	particles, _ := mmd.NewPoints(100, 2)
	for i := range target.Data {
		target.Data[i] = r.NormFloat64()
	}
	for i := range particles.Data {
		particles.Data[i] = 3 + 0.1*r.NormFloat64() // a bad start
	}
	flow, err := mmd.NewFlow(target, particles, mmd.FlowConfig{
		Kernel:   mmd.Gaussian{Sigma: 1},
		StepSize: 1,
		Noise:    mmd.HalvingNoise(1, 100), // beta_n = 1, halved every 100 steps
		Seed:     1,
	})
	if err != nil {
		panic(err)
	}
	before, _ := flow.MMD2()
	if err := flow.Run(500, nil); err != nil {
		panic(err)
	}
	after, _ := flow.MMD2()
	fmt.Printf("MMD^2 fell %.0fx\n", before/after)
	// Output: MMD^2 fell 83x
}

func ExampleKID() {
	r := rand.New(rand.NewPCG(2, 2))
	real, _ := mmd.NewPoints(1000, 16)
	fake, _ := mmd.NewPoints(1000, 16)
	for i := range real.Data {
		real.Data[i] = r.NormFloat64()
		fake.Data[i] = 0.5 + r.NormFloat64()
	}
	kid, err := mmd.KID(real, fake, 10)
	if err != nil {
		panic(err)
	}
	fmt.Printf("KID = %.3f +- %.3f over %d blocks of %d\n", kid.Mean, kid.StdErr, len(kid.Blocks), kid.SizeX)
	// Output: KID = 1.079 +- 0.056 over 10 blocks of 100
}

func ExampleAdaptiveBandwidth() {
	// P = N(0, 0.1^2 I), Q = N(mu, 0.1^2 I) in R^2: the best width shrinks
	// as Q approaches P.
	for _, m := range []float64{4, 2, 1, 0.2} {
		a, err := mmd.AdaptiveBandwidth([]float64{m, 0}, 0.1)
		if err != nil {
			panic(err)
		}
		fmt.Printf("||mu|| = %.1f: alpha* = %.3f\n", m, a)
	}
	// Output:
	// ||mu|| = 4.0: alpha* = 1.995
	// ||mu|| = 2.0: alpha* = 0.990
	// ||mu|| = 1.0: alpha* = 0.480
	// ||mu|| = 0.2: alpha* = 0.000
}

func ExampleParseKernel() {
	for _, s := range []string{"gaussian:0.5", "imq:1", "rq+linear", "kid"} {
		k, err := mmd.ParseKernel(s)
		if err != nil {
			panic(err)
		}
		fmt.Println(k)
	}
	_, err := mmd.ParseKernel("gaussian:-1")
	fmt.Println(err)
	// Output:
	// gaussian(sigma=0.5)
	// imq(c=1, beta=-0.5)
	// mixed-rq(alphas=[0.2 0.5 1 2 5], +linear)
	// polynomial(degree=3, gamma=1/d, coef0=1)
	// mmd: gaussian kernel: sigma = -1, need a positive finite width: invalid parameter
}

func ExampleParseNoise() {
	s, err := mmd.ParseNoise("halve:1,1000") // the student-teacher schedule of Arbel et al.
	if err != nil {
		panic(err)
	}
	for _, n := range []int{0, 999, 1000, 2500, 9999} {
		fmt.Printf("beta_%d = %g\n", n, s.Level(n))
	}
	// Output:
	// beta_0 = 1
	// beta_999 = 1
	// beta_1000 = 0.5
	// beta_2500 = 0.25
	// beta_9999 = 0.001953125
}

// A NaN or an infinity in a sample is an error that names the set, the point and the coordinate.
func ExampleErrNonFinite() {
	x, _ := mmd.PointsFromRows([][]float64{{0, 1}, {1, 0}})
	y, _ := mmd.PointsFromRows([][]float64{{0, 0}, {2, math.NaN()}})
	_, err := mmd.MMD2Unbiased(mmd.Gaussian{Sigma: 1}, x, y)
	fmt.Println(errors.Is(err, mmd.ErrNonFinite))
	fmt.Println(err)
	// Output:
	// true
	// mmd: second sample (y): point 1, coordinate 1 is NaN: not finite
}

// The estimators are invariant to a common shift of the data, and stay accurate far from the origin.
func ExampleMMD2Biased_farFromOrigin() {
	r := rand.New(rand.NewPCG(1, 2))
	x, _ := mmd.NewPoints(20, 8)
	y, _ := mmd.NewPoints(20, 8)
	for i := range x.Data {
		x.Data[i], y.Data[i] = r.NormFloat64(), r.NormFloat64()+0.5
	}
	k := mmd.Gaussian{Sigma: 1}
	near, _ := mmd.MMD2Biased(k, x, y)
	for i := range x.Data {
		x.Data[i] += 1e8
		y.Data[i] += 1e8
	}
	far, _ := mmd.MMD2Biased(k, x, y)
	fmt.Printf("at the origin %.4f, at 1e8 %.4f\n", near, far)
	// Output: at the origin 0.1063, at 1e8 0.1063
}
