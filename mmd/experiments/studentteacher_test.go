package experiments

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dmmd/dmmd/mmd"
)

func smallNet(r *rand.Rand, n, h, d int) net {
	return net{n: n, h: h, d: d, w1: gaussians(r, n*h*d, 0.1, 1), w2: gaussians(r, n*h, 0.1, 1)}
}

// TestStudentWitnessGradient checks the backward pass against finite
// differences: the witness gradient of particle p is -N times the gradient
// of the minibatch loss (1/2) mean_b (y_b - yhat_b)^2 with respect to p.
func TestStudentWitnessGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, h, d, b = 4, 3, 5, 7
	st := smallNet(r, n, h, d)
	x := sphere(r, b, d)
	y := gaussians(r, b, 0.5, 0.2)
	w := newWork(b, n, h)
	yhat := make([]float64, b)
	st.forward(x, b, w)
	st.mean(w, b, yhat)
	resid := make([]float64, b)
	for i := range resid {
		resid[i] = y[i] - yhat[i]
	}
	g1, g2 := make([]float64, n*h*d), make([]float64, n*h)
	st.witnessGrad(x, b, resid, w, g1, g2)
	loss := func() float64 { return st.loss(x, y, b, newWork(b, n, h), make([]float64, b)) }
	check := func(name string, ws, g []float64) {
		for i := range ws {
			orig := ws[i]
			const eps = 1e-6
			ws[i] = orig + eps
			lp := loss()
			ws[i] = orig - eps
			lm := loss()
			ws[i] = orig
			fd := (lp - lm) / (2 * eps)
			if want := -g[i] / n; math.Abs(fd-want) > 1e-8 {
				t.Errorf("%s[%d]: dL = %.10g, -grad f/N = %.10g", name, i, fd, want)
			}
		}
	}
	check("w1", st.w1, g1)
	check("w2", st.w2, g2)
}

func TestStudentTeacherValidate(t *testing.T) {
	mod := []func(*StudentTeacherConfig){
		func(c *StudentTeacherConfig) { c.Particles = 0 },
		func(c *StudentTeacherConfig) { c.Batch = c.Train + 1 },
		func(c *StudentTeacherConfig) { c.StepSize = -1 },
		func(c *StudentTeacherConfig) { c.StudentStd = math.NaN() },
		func(c *StudentTeacherConfig) { c.EvalEvery = 0 },
		func(c *StudentTeacherConfig) { c.Noise = mmd.ConstantNoise{Beta: -1} },
	}
	for i, m := range mod {
		c := DefaultStudentTeacher()
		m(&c)
		if _, err := RunStudentTeacher(c, nil); !errors.Is(err, mmd.ErrParam) {
			t.Errorf("case %d: err = %v, want ErrParam", i, err)
		}
	}
	if err := DefaultStudentTeacher().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// TestNoiseInjectionHelpsStudentTeacher reproduces, in a test-sized run, the
// qualitative claim of Arbel et al. (2019, student-teacher experiment):
// noise injection reaches a lower validation error than the plain MMD flow.
// Sizes are scaled down (d = 5, N = 20 particles, 100 training inputs,
// batch 10, 1000 epochs) and the step raised to 1 so the flows get far in a
// second; the noise starts at 1 and is halved every 200 epochs (the paper:
// every 1000 of 10^4). At the time of writing, noise ended lower on all five
// seeds, by factors 1.19, 1.29, 2.03, 1.81 and 3.77 (geometric mean 1.85);
// the test asserts noise lower on every seed and a geometric-mean factor of
// at least 1.5.
func TestNoiseInjectionHelpsStudentTeacher(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 10 small networks")
	}
	c := DefaultStudentTeacher()
	c.Dim, c.Particles, c.Train, c.Valid, c.Batch, c.Epochs = 5, 20, 100, 100, 10, 1000
	c.StepSize, c.Noise, c.EvalEvery = 1, mmd.HalvingNoise(1, 200), 1000
	s, err := CompareStudentTeacher(c, []uint64{1, 2, 3, 4, 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logRatio := 0.0
	for i, seed := range s.Seeds {
		noisy, plain := s.WithNoise[i].FinalValid, s.WithoutNoise[i].FinalValid
		t.Logf("seed %d: validation loss %.3g with noise, %.3g without (factor %.2f)", seed, noisy, plain, plain/noisy)
		if !(noisy < plain) {
			t.Errorf("seed %d: noise injection did not reach a lower validation loss (%g >= %g)", seed, noisy, plain)
		}
		logRatio += math.Log(plain/noisy) / float64(len(s.Seeds))
	}
	if f := math.Exp(logRatio); f < 1.5 {
		t.Errorf("noise lowers the final validation loss by a geometric-mean factor %.2f, want >= 1.5", f)
	}
	if s.NoiseWins != len(s.Seeds) || !s.Complete {
		t.Errorf("summary: %d wins, complete %v", s.NoiseWins, s.Complete)
	}
}

func TestStudentTeacherDivergence(t *testing.T) {
	c := DefaultStudentTeacher()
	c.Dim, c.Particles, c.Train, c.Valid, c.Batch, c.Epochs, c.EvalEvery = 4, 5, 20, 20, 10, 50, 1
	c.StepSize = 1e300
	r, err := RunStudentTeacher(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Diverged || !r.Done || r.DivergedAt == 0 || len(r.Valid) != r.DivergedAt {
		t.Fatalf("diverged %v at %d, done %v, %d evaluations", r.Diverged, r.DivergedAt, r.Done, len(r.Valid))
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("diverged run does not encode: %v", err)
	}
}
