package main

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
)

// cosines prints, per level, how well a checkpoint's witness gradient points along the oracle's expected step
// E[x_r - x_t | x_t] (the empirical posterior of the oracle's digits) at n held-out test digits noised to t:
// cos(g, m), cos(g, delta) (the diagnostics' step_cos, delta = x_r - x_t of the same image and noise) and
// cos(m, delta), the most step_cos can be for a critic that points exactly along m. The witness direction is
// the approximate flow's, c = mean phi(y_r) - mean phi(y_t) over the first nEmbed oracle digits.
// imgs are the held-out images (test digits, or CIFAR-10 training images outside the oracle's set).
func cosines(o *oracle, ckpt string, imgs [][]float32, nEmbed int) {
	op, err := rundir.Open(ckpt)
	if err != nil {
		log.Fatal(err)
	}
	params, _, err := rundir.LoadEMA(op.File)
	if err != nil {
		log.Fatal(err)
	}
	critic, err := model.NewCritic(params, 256)
	if err != nil {
		log.Fatal(err)
	}
	dim, D := o.dim, critic.FeatureDim()
	rng := rand.New(rand.NewPCG(7, 7))
	noisy := func(imgs [][]float32, t, r float64) (xt, xr []float32) {
		a, b := at(o.sched, t)
		ar, br := at(o.sched, r)
		for _, y := range imgs {
			for _, v := range y {
				e := rng.NormFloat64()
				xt = append(xt, float32(a*float64(v)+b*e))
				xr = append(xr, float32(ar*float64(v)+br*e))
			}
		}
		return xt, xr
	}
	meanFeat := func(x []float32, t float64) []float64 {
		m := len(x) / dim
		f := make([]float32, m*D)
		if err := critic.Features(x, t, f); err != nil {
			log.Fatal(err)
		}
		out := make([]float64, D)
		for i := range m {
			for j := range D {
				out[j] += float64(f[i*D+j]) / float64(m)
			}
		}
		return out
	}
	cosine := func(u, v []float32) float64 {
		var uv, uu, vv float64
		for i := range u {
			uv += float64(u[i]) * float64(v[i])
			uu += float64(u[i]) * float64(u[i])
			vv += float64(v[i]) * float64(v[i])
		}
		return uv / math.Sqrt(uu*vv)
	}
	fmt.Println("t\tcos(g,m)\tcos(g,delta)\tcos(m,delta)")
	for _, t := range []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1} {
		et, er := noisy(o.refs[:nEmbed], t, o.rho*t)
		mp, mn := meanFeat(er, t), meanFeat(et, t)
		c := make([]float32, D)
		for j := range c {
			c[j] = float32(mp[j] - mn[j])
		}
		xt, xr := noisy(imgs, t, o.rho*t)
		g := make([]float32, len(xt))
		if err := critic.WitnessGrad(xt, t, c, g); err != nil {
			log.Fatal(err)
		}
		m := make([]float32, len(xt))
		if err := o.WitnessGrad(xt, t, nil, m); err != nil {
			log.Fatal(err)
		}
		var gm, gd, md float64
		for i := range len(imgs) {
			s := i * dim
			d := make([]float32, dim)
			for j := range d {
				d[j] = xr[s+j] - xt[s+j]
			}
			gm += cosine(g[s:s+dim], m[s:s+dim]) / float64(len(imgs))
			gd += cosine(g[s:s+dim], d) / float64(len(imgs))
			md += cosine(m[s:s+dim], d) / float64(len(imgs))
		}
		fmt.Printf("%g\t%.3f\t%.3f\t%.3f\n", t, gm, gd, md)
	}
}
