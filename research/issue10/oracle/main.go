// Command oracle runs the DDIM sampler of package sample with an oracle critic: the exact posterior of a finite set
// of MNIST training digits (the empirical distribution), so that the sampler's own error can be told from the
// critic's (issue 10). The oracle's witness gradient at a particle u on level t is the expected step to the
// reference level, E[x_r - u | x_t = u] = alpha_r yhat + beta_r epshat - u, with yhat the posterior mean of the
// digits under u = alpha_t y + beta_t eps and epshat = (u - alpha_t yhat)/beta_t.
//
//	-mode flow: package sample's DDIM (the direction of that step, its length from the schedule, times -eta)
//	-mode true: DDIM with the oracle's own clean-image estimate (the step the direction-only update approximates)
//	-mode cos:  a checkpoint's witness gradient against the oracle's step, per level (cosines.go); with
//	            -dataset cifar10 the oracle is the first -refs CIFAR-10 training images and the n compared
//	            images are the last n of the training split (the offline copy has no test batch)
//
// Example: go run ./research/issue10/oracle -data ../shared/data/mnist -mode flow -out /tmp/oracle-flow
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/dmmd/dmmd/data/cifar"
	"github.com/dmmd/dmmd/data/mnist"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/sample"
)

type oracle struct {
	refs  [][]float32 // the digits, in [-1, 1]
	dim   int
	rho   float64
	sched diffusion.Schedule
	cos   float64 // < 1: the direction is turned by a random angle with this cosine (-mode flow)
	calls uint64
}

func (o *oracle) Shape() (int, int, int) { return 1, 28, 28 }
func (o *oracle) FeatureDim() int        { return 1 }
func (o *oracle) Features(z []float32, t float64, out []float32) error {
	clear(out)
	return nil
}

func at(s diffusion.Schedule, t float64) (float64, float64) {
	if t == 0 {
		return 1, 0
	}
	return s.AlphaBeta(t)
}

// posterior writes the posterior mean of the digits given u at level t into y.
func (o *oracle) posterior(u []float32, t float64, y []float64) {
	a, b := at(o.sched, t)
	logw := make([]float64, len(o.refs))
	best := math.Inf(-1)
	for j, r := range o.refs {
		var d float64
		for i, v := range u {
			e := float64(v) - a*float64(r[i])
			d += e * e
		}
		logw[j] = -d / (2 * b * b)
		best = max(best, logw[j])
	}
	clear(y)
	var sum float64
	for j, r := range o.refs {
		w := math.Exp(logw[j] - best)
		sum += w
		for i, v := range r {
			y[i] += w * float64(v)
		}
	}
	for i := range y {
		y[i] /= sum
	}
}

// each calls fn(p, u, yhat) for every particle p of z, two at a time, with yhat the posterior mean at level t.
func (o *oracle) each(z []float32, t float64, fn func(p int, u []float32, y []float64)) {
	n := len(z) / o.dim
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float64, o.dim)
			for p := w; p < n; p += 2 {
				u := z[p*o.dim : (p+1)*o.dim]
				o.posterior(u, t, y)
				fn(p, u, y)
			}
		}()
	}
	wg.Wait()
}

func (o *oracle) WitnessGrad(z []float32, t float64, dirs, out []float32) error {
	a, b := at(o.sched, t)
	ar, br := at(o.sched, o.rho*t)
	o.calls++
	call := o.calls
	o.each(z, t, func(p int, u []float32, y []float64) {
		g := out[p*o.dim : (p+1)*o.dim]
		var mm float64
		for i, v := range u {
			eps := (float64(v) - a*y[i]) / b
			g[i] = float32(ar*y[i] + br*eps - float64(v))
			mm += float64(g[i]) * float64(g[i])
		}
		if o.cos >= 1 || mm == 0 {
			return
		}
		// g <- cos |g| ghat + sin |g| xi, xi a random unit vector orthogonal to g.
		rng := rand.New(rand.NewPCG(call, uint64(p)))
		xi := make([]float64, len(g))
		var dot, xx float64
		for i := range xi {
			xi[i] = rng.NormFloat64()
			dot += xi[i] * float64(g[i])
		}
		for i := range xi {
			xi[i] -= dot / mm * float64(g[i])
			xx += xi[i] * xi[i]
		}
		norm, sin := math.Sqrt(mm), math.Sqrt(1-o.cos*o.cos)
		for i := range g {
			g[i] = float32(o.cos*float64(g[i]) + sin*norm*xi[i]/math.Sqrt(xx))
		}
	})
	return nil
}

func main() {
	dataset := flag.String("dataset", "mnist", "mnist, or cifar10 (-mode cos only)")
	dataPath := flag.String("data", "../shared/data/mnist", "MNIST folder, or CIFAR-10's (cifar-10-batches-bin or its parent)")
	nref := flag.Int("refs", 2000, "training digits in the empirical distribution")
	n := flag.Int("n", 1000, "samples")
	mode := flag.String("mode", "flow", "flow (package sample's DDIM) or true (DDIM with the oracle's clean estimate)")
	eta := flag.Float64("eta", 1.3, "ddim length multiplier (-mode flow)")
	gradLen := flag.Bool("grad-length", false, "-mode flow: -ddim-grad-length")
	rho := flag.Float64("rho", 0.8, "reference ratio")
	levels := flag.Int("levels", 50, "levels")
	out := flag.String("out", "", "folder for the PNGs")
	cos := flag.Float64("cos", 1, "-mode flow: turn each direction by a random angle with this cosine")
	ckpt := flag.String("ckpt", "", "-mode cos: the checkpoint whose witness gradient is compared with the oracle's")
	flag.Parse()
	if *dataset == "cifar10" {
		if *mode != "cos" {
			log.Fatal("oracle: -dataset cifar10 needs -mode cos")
		}
		train, err := cifar.Load(cifar.Options{Path: *dataPath})
		if err != nil {
			log.Fatal(err)
		}
		if *nref+*n > train.Len() {
			log.Fatalf("oracle: -refs %d + -n %d exceed the %d training images", *nref, *n, train.Len())
		}
		o := &oracle{dim: 3 * 32 * 32, rho: *rho, sched: diffusion.Default(), cos: 1}
		o.refs = images(train, 0, *nref, o.dim)
		cosines(o, *ckpt, images(train, train.Len()-*n, train.Len(), o.dim), 2000)
		return
	} else if *dataset != "mnist" {
		log.Fatalf("oracle: unknown -dataset %q", *dataset)
	}
	ds, err := mnist.Load(mnist.Options{Path: *dataPath, Limit: *nref})
	if err != nil {
		log.Fatal(err)
	}
	dim := 28 * 28
	o := &oracle{refs: images(ds, 0, ds.Len(), dim), dim: dim, rho: *rho, sched: diffusion.Default(), cos: *cos}
	if *mode == "cos" {
		test, err := mnist.Load(mnist.Options{Path: *dataPath, Split: "test", Limit: *n})
		if err != nil {
			log.Fatal(err)
		}
		cosines(o, *ckpt, images(test, 0, test.Len(), dim), 2000)
		return
	}
	opt := sample.DefaultOptionsFor(sample.Exact, sample.DDIM, dim)
	opt.Levels, opt.RefRatio, opt.Eta, opt.DDIMGradLen = *levels, *rho, *eta, *gradLen
	lv, err := opt.LevelGrid()
	if err != nil {
		log.Fatal(err)
	}
	var z []float32
	switch *mode {
	case "flow":
		emb, err := sample.ComputeEmbeddings(o, ds, lv, sample.EmbedOptions{RefRatio: *rho})
		if err != nil {
			log.Fatal(err)
		}
		f, err := sample.NewFlow(o, emb, opt)
		if err != nil {
			log.Fatal(err)
		}
		if z, err = f.Sample(*n); err != nil {
			log.Fatal(err)
		}
	case "true":
		rng := rand.New(rand.NewPCG(1, 2))
		z = make([]float32, *n*dim)
		for i := range z {
			z[i] = float32(rng.NormFloat64())
		}
		for k, t := range lv {
			next := 0.0
			if k+1 < len(lv) {
				next = lv[k+1]
			}
			a, b := at(o.sched, t)
			an, bn := at(o.sched, next)
			o.each(z, t, func(p int, u []float32, y []float64) {
				for i, v := range u {
					eps := (float64(v) - a*y[i]) / b
					u[i] = float32(an*y[i] + bn*eps)
				}
			})
		}
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for p := range *n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for i, v := range z[p*dim : (p+1)*dim] {
			img.Pix[i] = uint8(math.Round(max(0, min(255, (float64(v)+1)/2*255))))
		}
		fh, err := os.Create(filepath.Join(*out, fmt.Sprintf("%06d.png", p)))
		if err != nil {
			log.Fatal(err)
		}
		err = png.Encode(fh, img)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			log.Fatal(err)
		}
	}
}

// images returns images [from, to) of src as float32 slices of length dim.
func images(src interface{ Image(int, []float32) }, from, to, dim int) [][]float32 {
	out := make([][]float32, 0, to-from)
	for i := from; i < to; i++ {
		r := make([]float32, dim)
		src.Image(i, r)
		out = append(out, r)
	}
	return out
}
