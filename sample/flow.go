package sample

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/data"
)

// Flow runs the DMMD gradient flow for one critic, one set of mean embeddings and one set of options. It owns all
// its buffers (allocated once in NewFlow), so it is not safe for concurrent use; make one Flow per goroutine.
type Flow struct {
	// OnStep, if set, is called after every step with the level index k, the level t, the step s within the level
	// and the flow group's mean per-particle gradient norm before normalisation (a cheap health signal: with a
	// penalised critic it is about 1 near the data and much smaller elsewhere).
	OnStep func(k int, t float64, s int, meanGradNorm float64)

	critic    Critic
	opt       Options
	shape     data.Shape
	dim, d    int
	levels    []float64
	eta, nu   []float64
	mp        [][]float64 // m_P per level (exact flow)
	approxDir [][]float32 // m_P - m_N per level (approximate flow)
	meanSq    float64     // the data's mean square (DDIM update)

	z, g []float32 // particles and gradients of the whole group, P*dim
	phi  []float32 // features of the whole group, P*D (exact flow)
	sum  []float64 // S, the group's feature sum, D (exact flow)
	dirs []float32 // per-particle directions of one chunk, chunk*D (exact flow)
	// onePass, when set, takes each exact-flow step's gradients in one pass (see OnePassMax).
	onePass ExactCritic
	zin     []float32 // noise-injected evaluation points of one chunk, chunk*dim
	norms   []float64 // per-particle gradient norms of the whole group, P
	chunk   int
	st      *streams
}

// maxElems bounds the group buffers (P*dim and P*D float32 values, 8 GiB each).
const maxElems = 1 << 31

// NewFlow checks opt, the critic and the embeddings against each other and allocates the flow's buffers.
// emb must have been computed on opt.LevelGrid() at the critic's reference ratio opt.RefRatio (see
// Embeddings.Matches); the approximate flow needs emb.MN, the DDIM update emb.MeanSq.
func NewFlow(c Critic, emb *Embeddings, opt Options) (*Flow, error) {
	levels, err := opt.LevelGrid()
	if err != nil {
		return nil, err
	}
	shape, D, err := checkCritic(c)
	if err != nil {
		return nil, err
	}
	if err := emb.Validate(); err != nil {
		return nil, err
	}
	if emb.D() != D {
		return nil, fmt.Errorf("sample: embeddings have %d features, the critic %d", emb.D(), D)
	}
	if !levelsEqual(emb.Levels, levels) {
		return nil, fmt.Errorf("sample: embeddings were computed for %d other levels (%v ... %v), the flow uses %d "+
			"(%v ... %v): recompute them for this level grid",
			len(emb.Levels), emb.Levels[0], emb.Levels[len(emb.Levels)-1], len(levels), levels[0], levels[len(levels)-1])
	}
	if opt.Mode == Approx && !emb.HasNoised() {
		return nil, fmt.Errorf("sample: the approximate flow needs the noised-data embeddings m_N, which were skipped")
	}
	if emb.RefRatio != opt.RefRatio {
		return nil, fmt.Errorf("sample: the embeddings' m_P was taken at the reference ratio %v, the critic was trained "+
			"with %v: recompute them with EmbedOptions.RefRatio = %v", emb.RefRatio, opt.RefRatio, opt.RefRatio)
	}
	if opt.Update == DDIM && emb.MeanSq == 0 {
		return nil, fmt.Errorf("sample: the ddim update needs the data's mean square, which these embeddings do not " +
			"record (stored by an older dmmd?): recompute them, or set Embeddings.MeanSq with MeanSquare")
	}
	dim, P := shape.Size(), opt.Particles
	if P > maxElems/max(dim, D) {
		return nil, fmt.Errorf("sample: %d particles of dimension %d (%d features) do not fit in memory", P, dim, D)
	}
	chunk := min(opt.Chunk, P)
	f := &Flow{
		critic: c, opt: opt, shape: shape, dim: dim, d: D,
		levels: levels,
		eta:    opt.StepSizes(levels),
		nu:     opt.NoiseScales(len(levels)),
		z:      make([]float32, P*dim),
		g:      make([]float32, P*dim),
		norms:  make([]float64, P),
		meanSq: emb.MeanSq,
		chunk:  chunk,
		st:     newStreams(),
	}
	if opt.Noise > 0 {
		f.zin = make([]float32, chunk*dim)
	}
	switch opt.Mode {
	case Exact:
		f.mp = make([][]float64, len(levels))
		for k := range levels {
			f.mp[k] = append([]float64(nil), emb.MP[k]...)
		}
		if ec, ok := c.(ExactCritic); ok && opt.Noise == 0 && P >= 2 && P <= max(opt.Chunk, OnePassMax) {
			f.onePass = ec
			break
		}
		f.phi = make([]float32, P*D)
		f.sum = make([]float64, D)
		f.dirs = make([]float32, chunk*D)
	case Approx:
		f.approxDir = make([][]float32, len(levels))
		for k := range levels {
			row := make([]float32, D)
			for j := range row {
				row[j] = float32(emb.MP[k][j] - emb.MN[k][j])
			}
			f.approxDir[k] = row
		}
	}
	return f, nil
}

// Options returns the flow's options.
func (f *Flow) Options() Options { return f.opt }

// Shape returns the particle shape.
func (f *Flow) Shape() data.Shape { return f.shape }

// Levels returns the level grid, t_max first.
func (f *Flow) Levels() []float64 { return append([]float64(nil), f.levels...) }

// NFE returns T * N_s.
func (f *Flow) NFE() int { return f.opt.NFE() }

// StepSizes returns eta_k per level (before EtaNorm's normalisation) of the Euler update; the DDIM update does not
// use them.
func (f *Flow) StepSizes() []float64 { return append([]float64(nil), f.eta...) }

// GroupLen returns the number of values Group writes: Particles * Dim.
func (f *Flow) GroupLen() int { return len(f.z) }

// Group runs the flow for group g, the particles with indices g*P ... g*P+P-1 (P = Options.Particles), and writes
// them into out (P*Dim values, particle-major, CHW within a particle). The result depends only on the critic, the
// embeddings, the options other than Chunk, and g.
func (f *Flow) Group(g int, out []float32) error {
	P := f.opt.Particles
	if g < 0 || uint64(g+1)*uint64(P) > 1<<32 {
		return fmt.Errorf("sample: flow group %d out of range", g)
	}
	if len(out) != len(f.z) {
		return fmt.Errorf("sample: flow group output has %d values, want %d particles x %d", len(out), P, f.dim)
	}
	base := uint64(g) * uint64(P)
	dim := f.dim
	for i := range P {
		rng := f.st.at(f.opt.Seed, domainInit, base+uint64(i))
		zi := f.z[i*dim : (i+1)*dim]
		for j := range zi {
			zi[j] = float32(rng.NormFloat64())
		}
	}
	for k, t := range f.levels {
		for s := range f.opt.StepsPerLevel {
			if err := f.step(k, t, s, base); err != nil {
				return fmt.Errorf("sample: flow group %d, level %d (t=%.4g), step %d: %w", g, k, t, s, err)
			}
		}
	}
	if f.opt.Clip == ClipEnd {
		clamp(f.z)
	}
	for idx, v := range f.z {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("sample: flow group %d: particle %d diverged (value %v)", g, int(base)+idx/dim, v)
		}
	}
	copy(out, f.z)
	return nil
}

// step takes one flow step at level k for the whole group.
func (f *Flow) step(k int, t float64, s int, base uint64) error {
	if f.onePass != nil {
		// The exact flow without noise injection: features, directions and gradients in one pass.
		if err := f.onePass.ExactWitnessGrad(f.z, t, f.mp[k], f.g); err != nil {
			return fmt.Errorf("witness gradient: %w", err)
		}
	} else if err := f.gradients(k, t, s, base); err != nil {
		return err
	}
	return f.update(k, t, s, base)
}

// gradients computes the witness gradient of every particle into f.g chunk by chunk: for the exact flow the
// features of all particles first (pass 1), then the gradients along their leave-one-out directions (pass 2).
func (f *Flow) gradients(k int, t float64, s int, base uint64) error {
	P, dim, D, C := f.opt.Particles, f.dim, f.d, f.chunk
	exact := f.opt.Mode == Exact
	if exact {
		// Pass 1: features of every particle, then their sum in float64, in index order.
		for lo := 0; lo < P; lo += C {
			hi := min(lo+C, P)
			if err := f.critic.Features(f.z[lo*dim:hi*dim], t, f.phi[lo*D:hi*D]); err != nil {
				return fmt.Errorf("features: %w", err)
			}
		}
		clear(f.sum)
		for i := range P {
			row := f.phi[i*D : (i+1)*D]
			for j, v := range row {
				f.sum[j] += float64(v)
			}
		}
	}
	// Pass 2: the witness gradient of every particle, at its (possibly noise-injected) position.
	nu := f.nu[k]
	invNm1 := 1 / float64(P-1)
	for lo := 0; lo < P; lo += C {
		hi := min(lo+C, P)
		n := hi - lo
		zc := f.z[lo*dim : hi*dim]
		if nu > 0 {
			zin := f.zin[:n*dim]
			for i := range n {
				rng := f.st.at(f.opt.Seed, domainInject, (base+uint64(lo+i))<<32|uint64(k*f.opt.StepsPerLevel+s))
				for j := i * dim; j < (i+1)*dim; j++ {
					zin[j] = zc[j] + float32(nu*rng.NormFloat64())
				}
			}
			zc = zin
		}
		var dirs []float32
		if exact {
			dirs = f.dirs[:n*D]
			mp := f.mp[k]
			for i := range n {
				phi := f.phi[(lo+i)*D : (lo+i+1)*D]
				di := dirs[i*D : (i+1)*D]
				for j := range di {
					di[j] = float32(mp[j] - (f.sum[j]-float64(phi[j]))*invNm1)
				}
			}
		} else {
			dirs = f.approxDir[k]
		}
		if err := f.critic.WitnessGrad(zc, t, dirs, f.g[lo*dim:hi*dim]); err != nil {
			return fmt.Errorf("witness gradient: %w", err)
		}
	}
	return nil
}

// update moves the particles along f.g (Euler or DDIM) after reporting the step.
func (f *Flow) update(k int, t float64, s int, base uint64) error {
	P, dim := f.opt.Particles, f.dim
	// Per-particle gradient norms and their mean, in float64 and index order.
	var mean float64
	for i := range P {
		var sq float64
		for _, v := range f.g[i*dim : (i+1)*dim] {
			sq += float64(v) * float64(v)
		}
		f.norms[i] = math.Sqrt(sq)
		mean += f.norms[i]
	}
	mean /= float64(P)
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return fmt.Errorf("non-finite witness gradient")
	}
	if f.OnStep != nil {
		f.OnStep(k, t, s, mean)
	}
	if f.opt.Update == DDIM {
		f.ddimStep(k, s, base, mean)
	} else {
		f.eulerStep(k, mean)
	}
	if f.opt.Clip == ClipStep {
		clamp(f.z)
	}
	return nil
}

// eulerStep moves every particle by eta_k g (divided by the group's mean gradient norm with EtaNorm).
func (f *Flow) eulerStep(k int, mean float64) {
	scale := f.eta[k]
	if f.opt.EtaNorm {
		if mean == 0 {
			scale = 0 // a flat witness: nothing to follow
		} else {
			scale /= mean
		}
	}
	for idx, v := range f.g {
		f.z[idx] += float32(scale * float64(v))
	}
}

// clamp limits x to [-1, 1] in place; NaN stays NaN so that divergence is reported, not hidden.
func clamp(x []float32) {
	for i, v := range x {
		if v < -1 {
			x[i] = -1
		} else if v > 1 {
			x[i] = 1
		}
	}
}

// Sample runs groups 0, 1, ... and returns the first n particles (n*Dim values). Particle j is the same as the one
// Export writes as file j.
func (f *Flow) Sample(n int) ([]float32, error) {
	if n < 1 {
		return nil, fmt.Errorf("sample: asked for %d particles, want >= 1", n)
	}
	P := f.opt.Particles
	if n > maxElems/f.dim {
		return nil, fmt.Errorf("sample: %d particles of dimension %d do not fit in memory; use Export", n, f.dim)
	}
	out := make([]float32, n*f.dim)
	buf := make([]float32, len(f.z))
	for g := 0; g*P < n; g++ {
		if err := f.Group(g, buf); err != nil {
			return nil, err
		}
		copy(out[g*P*f.dim:], buf)
	}
	return out, nil
}
