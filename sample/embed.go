package sample

import (
	"fmt"
	"io"
	"math"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/internal/progress"
)

// Embeddings are the per-level mean features the flow needs in place of the data (paper eq. 12). It is plain data,
// meant to be stored next to the checkpoint (float64 tensors MP and MN of shape [T, D], plus Levels, M, Seed,
// RefRatio and MeanSq).
type Embeddings struct {
	Levels   []float64   // the sampling levels, descending (t_max first)
	M        int         // number of training images averaged (the first M of the dataset)
	Seed     uint64      // seed of the forward noise used for MN (and for MP when RefRatio > 0)
	RefRatio float64     // rho: MP was taken on the images noised to the reference level rho t_k (0: clean images)
	MeanSq   float64     // mean of y^2 over the M images and all their values; 0 = not recorded (an older file)
	MP       [][]float64 // MP[k] = mean phi(y_r; Levels[k]) over the M images, y_r at r = RefRatio t_k, [T][D]
	MN       [][]float64 // MN[k] = mean phi(x_t; Levels[k]) over the M images forward-noised to Levels[k]; nil if skipped
}

// D returns the feature dimension (0 if empty).
func (e *Embeddings) D() int {
	if e == nil || len(e.MP) == 0 {
		return 0
	}
	return len(e.MP[0])
}

// HasNoised reports whether MN was computed (the approximate flow needs it).
func (e *Embeddings) HasNoised() bool { return e != nil && e.MN != nil }

// levelsEqual compares level grids to within 1e-6 relative, so that a grid stored as float32 still matches.
func levelsEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-6*math.Max(math.Abs(a[i]), math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// Matches reports whether e was computed for this level grid, this many images, this noise seed and this
// reference ratio, so that a stored copy can be reused instead of recomputed. m is the resolved count
// (EmbedOptions.M, or the dataset length when that is 0 or larger).
func (e *Embeddings) Matches(levels []float64, m int, seed uint64, refRatio float64) bool {
	return e != nil && e.M == m && e.Seed == seed && e.RefRatio == refRatio && levelsEqual(e.Levels, levels)
}

// Validate checks that e is internally consistent: T levels, T rows of D finite values in MP (and MN if present).
func (e *Embeddings) Validate() error {
	if e == nil {
		return fmt.Errorf("sample: nil embeddings")
	}
	T := len(e.Levels)
	if T == 0 {
		return fmt.Errorf("sample: embeddings have no levels")
	}
	if e.M < 1 {
		return fmt.Errorf("sample: embeddings average M = %d images, want >= 1", e.M)
	}
	if !(e.RefRatio >= 0 && e.RefRatio < 1) {
		return fmt.Errorf("sample: embeddings: reference ratio %v, want 0 <= rho < 1", e.RefRatio)
	}
	if !(e.MeanSq >= 0) || math.IsInf(e.MeanSq, 0) {
		return fmt.Errorf("sample: embeddings: mean square %v, want a finite value >= 0", e.MeanSq)
	}
	D := e.D()
	if D == 0 {
		return fmt.Errorf("sample: embeddings have no features")
	}
	check := func(name string, m [][]float64) error {
		if len(m) != T {
			return fmt.Errorf("sample: embeddings: %s has %d rows for %d levels", name, len(m), T)
		}
		for k, row := range m {
			if len(row) != D {
				return fmt.Errorf("sample: embeddings: %s[%d] has %d features, want %d", name, k, len(row), D)
			}
			for j, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("sample: embeddings: %s[%d][%d] = %v", name, k, j, v)
				}
			}
		}
		return nil
	}
	if err := check("MP", e.MP); err != nil {
		return err
	}
	if e.MN != nil {
		if err := check("MN", e.MN); err != nil {
			return err
		}
	}
	return nil
}

// Flat returns MP and MN as row-major T*D slices, the layout of [T, D] tensors (mn is nil when MN was skipped).
func (e *Embeddings) Flat() (mp, mn []float64) {
	flat := func(m [][]float64) []float64 {
		if m == nil {
			return nil
		}
		out := make([]float64, 0, len(m)*e.D())
		for _, row := range m {
			out = append(out, row...)
		}
		return out
	}
	return flat(e.MP), flat(e.MN)
}

// NewEmbeddings rebuilds Embeddings from stored data: the levels, M, the seed and row-major [T, D] tensors mp and
// mn (mn may be nil). It copies the slices and validates the result; RefRatio and MeanSq are left 0 for the caller
// to set.
func NewEmbeddings(levels []float64, m int, seed uint64, d int, mp, mn []float64) (*Embeddings, error) {
	T := len(levels)
	if d < 1 || len(mp) != T*d || (mn != nil && len(mn) != T*d) {
		return nil, fmt.Errorf("sample: embeddings: %d levels x %d features do not match %d (m_P) and %d (m_N) values",
			T, d, len(mp), len(mn))
	}
	rows := func(flat []float64) [][]float64 {
		if flat == nil {
			return nil
		}
		out := make([][]float64, T)
		for k := range out {
			out[k] = append([]float64(nil), flat[k*d:(k+1)*d]...)
		}
		return out
	}
	e := &Embeddings{Levels: append([]float64(nil), levels...), M: m, Seed: seed, MP: rows(mp), MN: rows(mn)}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// EmbedOptions configures ComputeEmbeddings.
type EmbedOptions struct {
	M          int                // average over the first M images; 0 (or more than the dataset holds) = all
	Batch      int                // images per critic call; 0 = 256
	Seed       uint64             // seed of the forward noise for MN and MP (image i at level k has its own streams)
	RefRatio   float64            // rho, the critic's reference ratio: MP at level t on the images noised to rho t
	Schedule   diffusion.Schedule // forward path for MN (and MP); the zero value means diffusion.Default()
	SkipNoised bool               // compute MP only (the exact flow does not use MN): half the cost
	Progress   io.Writer          // progress bar destination; nil = silent
}

// ComputeEmbeddings computes the mean embeddings of the first M images of ds at each of levels (use
// Options.LevelGrid): MP[k] = mean phi(y_r; t_k) at the reference level r = RefRatio t_k, with y_r = y (the clean
// image) when RefRatio = 0 and y_r = alpha_r y + beta_r eps' otherwise, and MN[k] = mean phi(x_{t_k}; t_k) with
// x_{t_k} = alpha y + beta eps. eps and eps' come from two independent streams that depend only on (Seed, image
// index, k). MeanSq is the mean of y^2 over the M clean images (MeanSquare). Sums are taken in float64 in index
// order, so the result does not depend on Batch. Images of another size than the critic's are an error naming
// both shapes.
func ComputeEmbeddings(c Critic, ds data.Dataset, levels []float64, opt EmbedOptions) (*Embeddings, error) {
	shape, D, err := checkCritic(c)
	if err != nil {
		return nil, err
	}
	if ds == nil {
		return nil, fmt.Errorf("sample: embeddings: nil dataset")
	}
	if ds.Shape().Size() != shape.Size() {
		return nil, fmt.Errorf("sample: embeddings: the data are %v images, the critic takes %v", ds.Shape(), shape)
	}
	if len(levels) == 0 {
		return nil, fmt.Errorf("sample: embeddings: no levels")
	}
	for _, t := range levels {
		if !(t > 0 && t <= 1) {
			return nil, fmt.Errorf("sample: embeddings: level %v outside (0, 1]", t)
		}
	}
	sched := opt.Schedule
	if sched == (diffusion.Schedule{}) {
		sched = diffusion.Default()
	}
	if err := sched.Validate(); err != nil {
		return nil, fmt.Errorf("sample: embeddings: %w", err)
	}
	if opt.M < 0 || opt.Batch < 0 {
		return nil, fmt.Errorf("sample: embeddings: M = %d and batch = %d must be >= 0", opt.M, opt.Batch)
	}
	rho := opt.RefRatio
	if !(rho >= 0 && rho < 1) {
		return nil, fmt.Errorf("sample: embeddings: reference ratio %v, want 0 <= rho < 1", rho)
	}
	M := ds.Len()
	if opt.M > 0 && opt.M < M {
		M = opt.M
	}
	if M < 1 {
		return nil, fmt.Errorf("sample: embeddings: the dataset is empty")
	}
	if uint64(M) >= 1<<32 || len(levels) >= 1<<32 {
		return nil, fmt.Errorf("sample: embeddings: %d images x %d levels is too many", M, len(levels))
	}
	B := opt.Batch
	if B == 0 {
		B = 256
	}
	B = min(B, M)
	T, dim := len(levels), shape.Size()

	sumP := make([][]float64, T)
	var sumN [][]float64
	for k := range sumP {
		sumP[k] = make([]float64, D)
	}
	if !opt.SkipNoised {
		sumN = make([][]float64, T)
		for k := range sumN {
			sumN[k] = make([]float64, D)
		}
	}
	clean := make([]float32, B*dim)
	noisy := make([]float32, B*dim)
	var ref []float32 // the images at the reference level (rho > 0)
	if rho > 0 {
		ref = make([]float32, B*dim)
	}
	var sumSq float64
	feat := make([]float32, B*D)
	st := newStreams()

	passes := T
	if !opt.SkipNoised {
		passes *= 2
	}
	bar := progress.New(opt.Progress, int64(M*passes), progress.Options{Desc: "sample: mean embeddings", Unit: "img"})
	defer bar.Finish()

	accumulate := func(sum []float64, n int) {
		for i := range n {
			row := feat[i*D : (i+1)*D]
			for j, v := range row {
				sum[j] += float64(v)
			}
		}
	}
	for lo := 0; lo < M; lo += B {
		n := min(B, M-lo)
		x := clean[:n*dim]
		for i := range n {
			ds.Image(lo+i, x[i*dim:(i+1)*dim])
		}
		sumSq = addSquares(sumSq, x)
		for k, t := range levels {
			xp := x
			if rho > 0 {
				xp = ref[:n*dim]
				ar, br := sched.AlphaBeta(rho * t)
				for i := range n {
					rng := st.at(opt.Seed, domainEmbedRef, uint64(lo+i)<<32|uint64(k))
					src, dst := x[i*dim:(i+1)*dim], xp[i*dim:(i+1)*dim]
					for j := range dst {
						dst[j] = float32(ar*float64(src[j]) + br*rng.NormFloat64())
					}
				}
			}
			if err := c.Features(xp, t, feat[:n*D]); err != nil {
				return nil, fmt.Errorf("sample: embeddings: features of images %d..%d at t=%v: %w", lo, lo+n-1, t, err)
			}
			accumulate(sumP[k], n)
			bar.Add(int64(n))
			if opt.SkipNoised {
				continue
			}
			a, b := sched.AlphaBeta(t)
			xt := noisy[:n*dim]
			for i := range n {
				rng := st.at(opt.Seed, domainEmbed, uint64(lo+i)<<32|uint64(k))
				src, dst := x[i*dim:(i+1)*dim], xt[i*dim:(i+1)*dim]
				for j := range dst {
					dst[j] = float32(a*float64(src[j]) + b*rng.NormFloat64())
				}
			}
			if err := c.Features(xt, t, feat[:n*D]); err != nil {
				return nil, fmt.Errorf("sample: embeddings: features of noised images %d..%d at t=%v: %w",
					lo, lo+n-1, t, err)
			}
			accumulate(sumN[k], n)
			bar.Add(int64(n))
		}
	}
	inv := 1 / float64(M)
	scale := func(m [][]float64) {
		for _, row := range m {
			for j := range row {
				row[j] *= inv
			}
		}
	}
	scale(sumP)
	scale(sumN)
	e := &Embeddings{Levels: append([]float64(nil), levels...), M: M, Seed: opt.Seed, RefRatio: rho,
		MeanSq: sumSq / (float64(M) * float64(dim)), MP: sumP, MN: sumN}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%w (the critic produced non-finite features or the data non-finite values?)", err)
	}
	return e, nil
}

// addSquares returns sum plus the squares of x's values, added in index order in float64.
func addSquares(sum float64, x []float32) float64 {
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return sum
}

// MeanSquare is the data's second moment per value, the mean of y^2 over the first m images of ds (all of them when
// m is 0 or larger than ds.Len()) and all their values: Embeddings.MeanSq, which the DDIM update needs (about 0.8
// for MNIST in [-1, 1]). It reads the images only (no critic), in the order ComputeEmbeddings does, so the two
// agree bit for bit.
func MeanSquare(ds data.Dataset, m int) (float64, error) {
	if ds == nil {
		return 0, fmt.Errorf("sample: mean square: nil dataset")
	}
	if m < 0 {
		return 0, fmt.Errorf("sample: mean square: m = %d must be >= 0", m)
	}
	M := ds.Len()
	if m > 0 && m < M {
		M = m
	}
	dim := ds.Shape().Size()
	if M < 1 || dim < 1 {
		return 0, fmt.Errorf("sample: mean square: the dataset is empty")
	}
	x := make([]float32, dim)
	var sum float64
	for i := range M {
		ds.Image(i, x)
		sum = addSquares(sum, x)
	}
	v := sum / (float64(M) * float64(dim))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("sample: mean square: %v (non-finite data)", v)
	}
	return v, nil
}
