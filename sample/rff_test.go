package sample_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/sample"
)

// rff is a known feature map standing in for the network: random Fourier features
// phi(z; t) = sqrt(2/D) cos(W z / bw(t) + b), W ~ N(0, I), b ~ U[0, 2 pi), whose kernel <phi(x), phi(y)> approximates
// the Gaussian kernel exp(-||x-y||^2 / (2 bw(t)^2)). The bandwidth shrinks with the noise level, like the
// noise-adaptive kernel of the paper: bw(t) = bwMin + (bwMax-bwMin) beta_t.
type rff struct {
	c, h, w, dim, d int
	W, b            []float64 // d x dim, d
	bwMin, bwMax    float64
	sched           diffusion.Schedule
	calls           int       // Features + WitnessGrad calls, for the tests that count them
	grad            []float64 // scratch for WitnessGrad, so that the critic itself does not allocate
}

func newRFF(c, h, w, d int, bwMin, bwMax float64, seed uint64) *rff {
	dim := c * h * w
	r := &rff{c: c, h: h, w: w, dim: dim, d: d, W: make([]float64, d*dim), b: make([]float64, d),
		bwMin: bwMin, bwMax: bwMax, sched: diffusion.Default()}
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := range r.W {
		r.W[i] = rng.NormFloat64()
	}
	for i := range r.b {
		r.b[i] = 2 * math.Pi * rng.Float64()
	}
	return r
}

func (r *rff) Shape() (int, int, int) { return r.c, r.h, r.w }
func (r *rff) FeatureDim() int        { return r.d }

func (r *rff) bw(t float64) float64 { return r.bwMin + (r.bwMax-r.bwMin)*r.sched.Beta(t) }

// arg returns w_k . z / bw + b_k.
func (r *rff) arg(z []float32, k int, inv float64) float64 {
	var a float64
	wk := r.W[k*r.dim : (k+1)*r.dim]
	for j, v := range z {
		a += wk[j] * float64(v)
	}
	return a*inv + r.b[k]
}

func (r *rff) Features(z []float32, t float64, out []float32) error {
	r.calls++
	if len(z)%r.dim != 0 || len(out) != len(z)/r.dim*r.d {
		return fmt.Errorf("rff: Features: %d inputs, %d outputs", len(z), len(out))
	}
	inv, s := 1/r.bw(t), math.Sqrt(2/float64(r.d))
	for i := range len(z) / r.dim {
		zi := z[i*r.dim : (i+1)*r.dim]
		for k := range r.d {
			out[i*r.d+k] = float32(s * math.Cos(r.arg(zi, k, inv)))
		}
	}
	return nil
}

// WitnessGrad is the closed form grad_z <phi(z), u> = -sqrt(2/D) sum_k u_k sin(a_k) w_k / bw.
func (r *rff) WitnessGrad(z []float32, t float64, dirs []float32, out []float32) error {
	r.calls++
	n := len(z) / r.dim
	if len(z)%r.dim != 0 || len(out) != len(z) || (len(dirs) != r.d && len(dirs) != n*r.d) {
		return fmt.Errorf("rff: WitnessGrad: %d inputs, %d dirs, %d outputs", len(z), len(dirs), len(out))
	}
	inv, s := 1/r.bw(t), math.Sqrt(2/float64(r.d))
	if r.grad == nil {
		r.grad = make([]float64, r.dim)
	}
	g := r.grad
	for i := range n {
		zi := z[i*r.dim : (i+1)*r.dim]
		u := dirs
		if len(dirs) != r.d {
			u = dirs[i*r.d : (i+1)*r.d]
		}
		clear(g)
		for k := range r.d {
			c := -s * float64(u[k]) * math.Sin(r.arg(zi, k, inv)) * inv
			wk := r.W[k*r.dim : (k+1)*r.dim]
			for j := range g {
				g[j] += c * wk[j]
			}
		}
		for j := range g {
			out[i*r.dim+j] = float32(g[j])
		}
	}
	return nil
}

// cloud is a dataset of n points in [-1, 1]^dim: an equal mixture of 4 tight clusters (std 0.1).
type cloud struct {
	dim int
	x   []float32
}

func newCloud(n, dim int, seed uint64) *cloud { return newCloudNoise(n, dim, seed, seed) }

// newCloudNoise is newCloud with the cluster centres from seed and the scatter around them from noiseSeed.
func newCloudNoise(n, dim int, seed, noiseSeed uint64) *cloud {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, 4)
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range dim {
			// The first two coordinates make the four centres distinct (the corners of a square); the rest are random.
			neg := rng.IntN(2) == 0
			if j < 2 {
				neg = c>>j&1 == 1
			}
			centres[c][j] = 0.5
			if neg {
				centres[c][j] = -0.5
			}
		}
	}
	x := make([]float32, n*dim)
	rng = rand.New(rand.NewPCG(noiseSeed, 8))
	for i := range n {
		c := centres[i%4]
		for j := range dim {
			x[i*dim+j] = float32(max(-1, min(1, c[j]+0.1*rng.NormFloat64())))
		}
	}
	return &cloud{dim: dim, x: x}
}

func (c *cloud) Len() int                   { return len(c.x) / c.dim }
func (c *cloud) Shape() data.Shape          { return data.Shape{C: 1, H: 1, W: c.dim} }
func (c *cloud) Image(i int, dst []float32) { copy(dst, c.x[i*c.dim:(i+1)*c.dim]) }

// mmd is the (biased, V-statistic) MMD between point sets x and y with a Gaussian kernel of width bw, computed
// exactly (not through the features), as an independent yardstick.
func mmd(x, y []float32, dim int, bw float64) float64 {
	k := func(a, b []float32) float64 {
		var sq float64
		for j := range a {
			d := float64(a[j] - b[j])
			sq += d * d
		}
		return math.Exp(-sq / (2 * bw * bw))
	}
	mean := func(a, b []float32) float64 {
		var s float64
		na, nb := len(a)/dim, len(b)/dim
		for i := range na {
			for j := range nb {
				s += k(a[i*dim:(i+1)*dim], b[j*dim:(j+1)*dim])
			}
		}
		return s / float64(na*nb)
	}
	return math.Sqrt(max(0, mean(x, x)+mean(y, y)-2*mean(x, y)))
}

var _ sample.Critic = (*rff)(nil)
var _ data.Dataset = (*cloud)(nil)
