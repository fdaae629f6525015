package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/dmmd/dmmd/mmd"
)

// StudentTeacherConfig configures the student-teacher experiment. The
// defaults of [DefaultStudentTeacher] are those of the public code of Arbel
// et al. (train_student_teacher.py).
//
// The teacher is a network with Hidden ReLU units and output non-linearity
// exp(-x^2/4), psi_U(x) = exp(-(w2.relu(W1 x))^2/4), without biases. A
// particle Z = (W1, w2) is a network of the same shape and the student
// predicts the mean (1/N) sum_i psi_{Z_i}(x). The squared validation error is
// then MMD^2 between the teacher and the particles under the kernel
// k(U, Z) = E_x psi_U(x) psi_Z(x), and SGD on the particles is the MMD
// gradient flow with minibatch estimates of that kernel.
type StudentTeacherConfig struct {
	Dim       int `json:"dim"`       // input dimension d; inputs are uniform on the unit sphere
	Hidden    int `json:"hidden"`    // hidden units H of the teacher and of each particle
	Particles int `json:"particles"` // number of particles N
	Train     int `json:"train"`     // training inputs
	Valid     int `json:"valid"`     // validation inputs
	Batch     int `json:"batch"`     // minibatch size; an epoch is Train/Batch steps
	Epochs    int `json:"epochs"`
	// StepSize is gamma in Z <- Z + gamma grad f(Z + beta u), with f the
	// minibatch witness (1/B) sum_b (y_b - yhat_b) psi_Z(x_b). The public
	// code's lr = 0.1 multiplies half this gradient, so it is gamma = 0.05.
	StepSize float64 `json:"step_size"`
	// Noise gives beta for each epoch (a fresh u ~ N(0, I) for every
	// particle and step); nil means no noise injection.
	Noise       mmd.NoiseSchedule `json:"-"`
	StudentMean float64           `json:"student_mean"` // student weights ~ N(StudentMean, StudentStd^2)
	StudentStd  float64           `json:"student_std"`
	TeacherStd  float64           `json:"teacher_std"` // teacher weights ~ N(0, TeacherStd^2)
	EvalEvery   int               `json:"eval_every"`  // epochs between validation evaluations
	// Seed fixes the teacher, the data, the student initialisation and the
	// minibatch order; the injected noise has its own stream, so runs with
	// and without noise share everything else.
	Seed uint64 `json:"seed"`
}

// DefaultStudentTeacher returns the configuration of the public code: d =
// 50, H = 3, N = 1000 particles, 1000 training and 1000 validation inputs,
// batch 100, 10^4 epochs, lr 0.1 (gamma 0.05), noise level 1 halved every
// 1000 epochs, student weights N(0.001, 1), teacher weights N(0, 1).
func DefaultStudentTeacher() StudentTeacherConfig {
	return StudentTeacherConfig{
		Dim: 50, Hidden: 3, Particles: 1000, Train: 1000, Valid: 1000, Batch: 100,
		Epochs: 10000, StepSize: 0.05, Noise: mmd.HalvingNoise(1, 1000),
		StudentMean: 0.001, StudentStd: 1, TeacherStd: 1, EvalEvery: 10, Seed: 1,
	}
}

// Validate reports whether the configuration can run.
func (c StudentTeacherConfig) Validate() error {
	pos := []struct {
		name string
		v    int
	}{{"dim", c.Dim}, {"hidden", c.Hidden}, {"particles", c.Particles}, {"train", c.Train},
		{"valid", c.Valid}, {"batch", c.Batch}, {"epochs", c.Epochs}, {"eval-every", c.EvalEvery}}
	for _, p := range pos {
		if p.v < 1 {
			return fmt.Errorf("mmd: student-teacher: %s = %d, need >= 1: %w", p.name, p.v, mmd.ErrParam)
		}
	}
	if c.Batch > c.Train {
		return fmt.Errorf("mmd: student-teacher: batch %d is larger than the training set %d: %w", c.Batch, c.Train, mmd.ErrParam)
	}
	if !(c.StepSize > 0) || math.IsInf(c.StepSize, 1) {
		return fmt.Errorf("mmd: student-teacher: step size %v, need > 0: %w", c.StepSize, mmd.ErrParam)
	}
	for _, v := range []float64{c.StudentMean, c.StudentStd, c.TeacherStd} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("mmd: student-teacher: non-finite initialisation parameter %v: %w", v, mmd.ErrParam)
		}
	}
	if c.StudentStd < 0 || c.TeacherStd < 0 {
		return fmt.Errorf("mmd: student-teacher: negative initialisation std: %w", mmd.ErrParam)
	}
	if c.Noise != nil {
		return c.Noise.Validate()
	}
	return nil
}

// StudentTeacherRun is the outcome of one training run.
type StudentTeacherRun struct {
	Seed  uint64 `json:"seed"`
	Noise string `json:"noise"`
	// Epochs[i] is the number of epochs done when Valid[i] was measured
	// (0 is the initial student).
	Epochs []int `json:"epochs"`
	// Valid is the validation loss (1/2) mean_x (y(x) - yhat(x))^2, the
	// quantity the public code reports; MMD^2 is twice it.
	Valid []float64 `json:"valid_loss"`
	// Train is the mean minibatch training loss of each evaluated epoch (at
	// epoch 0, the loss on the whole training set).
	Train      []float64 `json:"train_loss"`
	FinalValid float64   `json:"final_valid_loss"`
	BestValid  float64   `json:"best_valid_loss"`
	// Diverged is set, and training stopped, when a loss became non-finite
	// at epoch DivergedAt (which is not recorded in the curves).
	Diverged   bool `json:"diverged"`
	DivergedAt int  `json:"diverged_at,omitempty"`
	// Done is false while the run is still training.
	Done        bool    `json:"done"`
	WallSeconds float64 `json:"wall_seconds"`
}

// net holds N networks of the shape (H x d, H): w1 is (N*H) x d row-major
// (rows p*H..p*H+H-1 belong to particle p) and w2 has N*H entries.
type net struct {
	n, h, d int
	w1, w2  []float64
}

// stWork holds the buffers of one forward/backward pass over a batch.
type stWork struct {
	pre  []float64 // batch x N*H pre-activations
	s    []float64 // batch x N second-layer outputs
	psi  []float64 // batch x N network outputs
	coef []float64 // batch x N*H backward coefficients
}

func newWork(b, n, h int) *stWork {
	return &stWork{pre: make([]float64, b*n*h), s: make([]float64, b*n), psi: make([]float64, b*n), coef: make([]float64, b*n*h)}
}

// forward fills w.pre, w.s and w.psi for the rows of x (batch x d).
func (nt *net) forward(x []float64, rows int, w *stWork) {
	nh := nt.n * nt.h
	xm := blas64.General{Rows: rows, Cols: nt.d, Stride: nt.d, Data: x[:rows*nt.d]}
	am := blas64.General{Rows: nh, Cols: nt.d, Stride: nt.d, Data: nt.w1}
	pm := blas64.General{Rows: rows, Cols: nh, Stride: nh, Data: w.pre[:rows*nh]}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, xm, am, 0, pm)
	byParticles(nt.n, func(lo, hi int) {
		for b := range rows {
			pre := w.pre[b*nh : (b+1)*nh]
			for p := lo; p < hi; p++ {
				var s float64
				for k := p * nt.h; k < (p+1)*nt.h; k++ {
					if v := pre[k]; v > 0 {
						s += nt.w2[k] * v
					}
				}
				w.s[b*nt.n+p] = s
				w.psi[b*nt.n+p] = math.Exp(-s * s / 4)
			}
		}
	})
}

// byParticles splits [0, n) into one contiguous range per core and runs fn
// on the ranges concurrently.
func byParticles(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/64)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i*n/workers, (i+1)*n/workers)
		}()
	}
	wg.Wait()
}

// mean returns (1/N) sum_p psi[b, p] for each row b.
func (nt *net) mean(w *stWork, rows int, out []float64) {
	for b := range rows {
		var m float64
		for _, v := range w.psi[b*nt.n : (b+1)*nt.n] {
			m += v
		}
		out[b] = m / float64(nt.n)
	}
}

// witnessGrad writes into g1 (like w1) and g2 (like w2) the gradient with
// respect to each particle of the minibatch witness
// f(Z) = (1/B) sum_b r_b psi_Z(x_b), where w holds a forward pass of nt on
// x and r_b = y_b - yhat_b are the residuals of the clean student.
func (nt *net) witnessGrad(x []float64, rows int, r []float64, w *stWork, g1, g2 []float64) {
	nh := nt.n * nt.h
	clear(g2)
	inv := 1 / float64(rows)
	byParticles(nt.n, func(lo, hi int) {
		for b := range rows {
			pre := w.pre[b*nh : (b+1)*nh]
			coef := w.coef[b*nh : (b+1)*nh]
			for p := lo; p < hi; p++ {
				s, psi := w.s[b*nt.n+p], w.psi[b*nt.n+p]
				// d psi / d s = -s/2 psi.
				c := r[b] * inv * (-s / 2) * psi
				for k := p * nt.h; k < (p+1)*nt.h; k++ {
					if v := pre[k]; v > 0 {
						g2[k] += c * v
						coef[k] = c * nt.w2[k]
					} else {
						coef[k] = 0
					}
				}
			}
		}
	})
	cm := blas64.General{Rows: rows, Cols: nh, Stride: nh, Data: w.coef[:rows*nh]}
	xm := blas64.General{Rows: rows, Cols: nt.d, Stride: nt.d, Data: x[:rows*nt.d]}
	gm := blas64.General{Rows: nh, Cols: nt.d, Stride: nt.d, Data: g1}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, cm, xm, 0, gm)
}

func sphere(r *rand.Rand, n, d int) []float64 {
	x := make([]float64, n*d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		var s float64
		for j := range row {
			row[j] = r.NormFloat64()
			s += row[j] * row[j]
		}
		s = 1 / math.Sqrt(s)
		for j := range row {
			row[j] *= s
		}
	}
	return x
}

func gaussians(r *rand.Rand, n int, mean, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = mean + std*r.NormFloat64()
	}
	return v
}

// stProblem is the fixed part of a run: teacher, data and initial student.
type stProblem struct {
	teacher        net
	student        net
	xTrain, xValid []float64
	yTrain, yValid []float64
}

func newProblem(c StudentTeacherConfig) *stProblem {
	r := rand.New(rand.NewPCG(c.Seed, 1))
	pr := &stProblem{
		teacher: net{n: 1, h: c.Hidden, d: c.Dim,
			w1: gaussians(r, c.Hidden*c.Dim, 0, c.TeacherStd), w2: gaussians(r, c.Hidden, 0, c.TeacherStd)},
	}
	pr.xTrain = sphere(r, c.Train, c.Dim)
	pr.xValid = sphere(r, c.Valid, c.Dim)
	label := func(x []float64, n int) []float64 {
		w := newWork(n, 1, c.Hidden)
		pr.teacher.forward(x, n, w)
		return append([]float64(nil), w.psi[:n]...)
	}
	pr.yTrain, pr.yValid = label(pr.xTrain, c.Train), label(pr.xValid, c.Valid)
	rs := rand.New(rand.NewPCG(c.Seed, 2))
	pr.student = net{n: c.Particles, h: c.Hidden, d: c.Dim,
		w1: gaussians(rs, c.Particles*c.Hidden*c.Dim, c.StudentMean, c.StudentStd),
		w2: gaussians(rs, c.Particles*c.Hidden, c.StudentMean, c.StudentStd)}
	return pr
}

// loss returns (1/2) mean (y - yhat)^2 of the student on x, using w and
// yhat (at least rows long) as scratch.
func (nt *net) loss(x, y []float64, rows int, w *stWork, yhat []float64) float64 {
	nt.forward(x, rows, w)
	nt.mean(w, rows, yhat)
	var s float64
	for b := range rows {
		d := y[b] - yhat[b]
		s += d * d
	}
	return s / (2 * float64(rows))
}

// evalLoss returns the loss of the student on the inputs x (n of them) with
// targets y, in chunks of the work buffers' size.
func (pr *stProblem) evalLoss(x, y []float64, w *stWork, yhat []float64) float64 {
	var s float64
	d, n, chunk := pr.student.d, len(y), len(yhat)
	for lo := 0; lo < n; lo += chunk {
		rows := min(chunk, n-lo)
		s += pr.student.loss(x[lo*d:], y[lo:], rows, w, yhat) * float64(rows)
	}
	return s / float64(n)
}

// RunStudentTeacher trains the student by the (noise-injected) MMD flow and
// records the validation loss every EvalEvery epochs. progress, when not
// nil, is called after each evaluation with the run so far (the same value
// each time, updated in place) and once more when the run is done. A run
// whose weights become non-finite stops early with Diverged set.
func RunStudentTeacher(c StudentTeacherConfig, progress func(*StudentTeacherRun)) (*StudentTeacherRun, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	run := newRun(c)
	runInto(c, run, nil, progress)
	return run, nil
}

func newRun(c StudentTeacherConfig) *StudentTeacherRun {
	run := &StudentTeacherRun{Seed: c.Seed, Noise: "none"}
	if c.Noise != nil {
		run.Noise = c.Noise.String()
	}
	return run
}

// runInto trains a validated configuration, filling run. Every change to
// run, and every call of progress, happens with mu (when not nil) held, so
// that several runs can share a summary.
func runInto(c StudentTeacherConfig, run *StudentTeacherRun, mu sync.Locker, progress func(*StudentTeacherRun)) {
	if mu == nil {
		mu = noLock{}
	}
	start := time.Now()
	pr := newProblem(c)
	st := &pr.student
	nh := c.Particles * c.Hidden
	w := newWork(c.Batch, c.Particles, c.Hidden)
	var wn *stWork
	noisy := net{n: c.Particles, h: c.Hidden, d: c.Dim}
	if c.Noise != nil {
		wn = newWork(c.Batch, c.Particles, c.Hidden)
		noisy.w1 = make([]float64, len(st.w1))
		noisy.w2 = make([]float64, len(st.w2))
	}
	g1, g2 := make([]float64, nh*c.Dim), make([]float64, nh)
	yhat := make([]float64, c.Batch)
	resid := make([]float64, c.Batch)
	xb := make([]float64, c.Batch*c.Dim)
	yb := make([]float64, c.Batch)
	perm := make([]int, c.Train)
	for i := range perm {
		perm[i] = i
	}
	shuffle := rand.New(rand.NewPCG(c.Seed, 3))
	noiseRNG := rand.New(rand.NewPCG(c.Seed, 4))
	record := func(epoch int, train float64) {
		v := pr.evalLoss(pr.xValid, pr.yValid, w, yhat)
		mu.Lock()
		defer mu.Unlock()
		run.WallSeconds = time.Since(start).Seconds()
		if !finite(v) || !finite(train) {
			// Keep the curves finite (and JSON-encodable).
			run.Diverged, run.DivergedAt = true, epoch
		} else {
			run.Epochs = append(run.Epochs, epoch)
			run.Valid = append(run.Valid, v)
			run.Train = append(run.Train, train)
			run.FinalValid = v
			if len(run.Valid) == 1 || v < run.BestValid {
				run.BestValid = v
			}
		}
		if progress != nil {
			progress(run)
		}
	}
	steps := c.Train / c.Batch
	record(0, pr.evalLoss(pr.xTrain, pr.yTrain, w, yhat))
	for epoch := 0; epoch < c.Epochs && !run.Diverged; epoch++ {
		beta := 0.0
		if c.Noise != nil {
			beta = c.Noise.Level(epoch)
		}
		shuffle.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var trainSum float64
		for s := range steps {
			for b := range c.Batch {
				i := perm[s*c.Batch+b]
				copy(xb[b*c.Dim:(b+1)*c.Dim], pr.xTrain[i*c.Dim:(i+1)*c.Dim])
				yb[b] = pr.yTrain[i]
			}
			// Clean pass: the student's prediction and the residuals.
			st.forward(xb, c.Batch, w)
			st.mean(w, c.Batch, yhat)
			var l float64
			for b := range c.Batch {
				resid[b] = yb[b] - yhat[b]
				l += resid[b] * resid[b]
			}
			trainSum += l / (2 * float64(c.Batch))
			// Gradient of the witness at the (noisy) particles.
			at, aw := st, w
			if beta > 0 {
				for i, v := range st.w1 {
					noisy.w1[i] = v + beta*noiseRNG.NormFloat64()
				}
				for i, v := range st.w2 {
					noisy.w2[i] = v + beta*noiseRNG.NormFloat64()
				}
				noisy.forward(xb, c.Batch, wn)
				at, aw = &noisy, wn
			}
			at.witnessGrad(xb, c.Batch, resid, aw, g1, g2)
			for i, g := range g1 {
				st.w1[i] += c.StepSize * g
			}
			for i, g := range g2 {
				st.w2[i] += c.StepSize * g
			}
		}
		if (epoch+1)%c.EvalEvery == 0 || epoch+1 == c.Epochs {
			record(epoch+1, trainSum/float64(steps))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	run.WallSeconds = time.Since(start).Seconds()
	run.Done = true
	if progress != nil {
		progress(run)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}
