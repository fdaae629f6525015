// Command parity (research/parity; adapted from ../shared/tools/torchref/dump/main.go.txt to the current API: the
// float32 outputs are read through the public accessors) writes a fixed network, fixed inputs and the Go model's outputs (features, loss terms, parameter
// gradients of both penalty modes, witness gradients, one Adam step) to a safetensors file for mirror.py.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/model"
)

func addAny(w *checkpoints.Writer, name string, shape []int, v any) {
	switch d := v.(type) {
	case []float32:
		w.AddF32(name, shape, d)
	case []float64:
		w.AddF64(name, shape, d)
	default:
		log.Fatalf("%s: %T", name, v)
	}
}

func addParams(w *checkpoints.Writer, prefix string, p *model.Params) {
	for i, s := range p.Specs() {
		addAny(w, prefix+s.Name, s.Shape, p.Data(i))
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	preset := flag.String("preset", "small", "preset")
	size := flag.Int("size", 32, "image size")
	ch := flag.Int("ch", 3, "channels")
	dtype := flag.String("dtype", "float32", "float32 or float64")
	pool := flag.String("pool", "", "override pool (flatten or mean)")
	batch := flag.Int("batch", 8, "batch per side")
	seed := flag.Uint64("seed", 7, "seed")
	level := flag.Float64("t", 0.37, "level t")
	biasScale := flag.Float64("bias", 0.05, "random bias scale (0 = Init's zero biases)")
	out := flag.String("out", "dump.safetensors", "output file")
	ckpt := flag.String("ckpt", "", "take the config and weights from a trainer checkpoint instead of Init")
	prefix := flag.String("prefix", "ema.", "tensor prefix in -ckpt")
	flag.Parse()

	var cfg model.Config
	var p *model.Params
	var err error
	if *ckpt != "" {
		f, err := checkpoints.ReadFile(*ckpt)
		must(err)
		js, ok := f.Meta("dmmd.train_config")
		if !ok {
			log.Fatal("no dmmd.train_config")
		}
		var tc struct {
			Model model.Config `json:"model"`
		}
		must(json.Unmarshal([]byte(js), &tc))
		cfg = tc.Model
		p, err = model.NewParams(cfg)
		must(err)
		vals := map[string]any{}
		for _, s := range p.Specs() {
			v, _, err := f.F32(*prefix + s.Name)
			must(err)
			vals[s.Name] = v
		}
		must(p.Import(vals))
		*biasScale = 0
	} else {
		cfg, err = model.Preset(*preset, *size, *ch)
		must(err)
		cfg.DType = *dtype
		if *pool != "" {
			cfg.Pool = *pool
		}
		must(cfg.Validate())
		p, err = model.Init(cfg, *seed)
		must(err)
	}
	rng := rand.New(rand.NewPCG(*seed, 12345))
	if *biasScale > 0 {
		for i, s := range p.Specs() {
			if len(s.Shape) == 1 {
				v := make([]float64, s.Size())
				for j := range v {
					v[j] = (2*rng.Float64() - 1) * *biasScale
				}
				must(p.SetFloat64s(i, v))
			}
		}
	}
	B, in, D := *batch, cfg.InputSize(), cfg.FeatureDim
	img := []int{B, cfg.Channels, cfg.ImageSize, cfg.ImageSize}
	x, y, z := make([]float32, B*in), make([]float32, B*in), make([]float32, B*in)
	u := make([]float32, B)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		y[i] = float32(2*rng.Float64() - 1)
	}
	for i := 0; i < B; i++ {
		u[i] = float32(rng.Float64())
		for j := i * in; j < (i+1)*in; j++ {
			z[j] = u[i]*x[j] + (1-u[i])*y[j]
		}
	}
	dirs := make([]float32, B*D)
	for i := range dirs {
		dirs[i] = float32(rng.NormFloat64())
	}
	w := checkpoints.NewWriter()
	cj := fmt.Sprintf(`{"image_size":%d,"channels":%d,"widths":%v,"res_blocks":%d,"stem_stride":%d,"time_embed":%d,"time_hidden":%d,"feature_dim":%d,"pool":%q,"dtype":%q}`,
		cfg.ImageSize, cfg.Channels, jsonInts(cfg.Widths), cfg.ResBlocks, cfg.StemStride, cfg.TimeEmbed, cfg.TimeHidden, cfg.FeatureDim, cfg.Pool, cfg.DType)
	w.SetMeta("mirror.model_config", cj)
	w.SetMeta("mirror.blas", model.BLAS())
	addParams(w, "params.", p)
	w.AddF32("in.x", img, x)
	w.AddF32("in.y", img, y)
	w.AddF32("in.z", img, z)
	w.AddF32("in.u", []int{B}, u)
	w.AddF32("in.dirs", []int{B, D}, dirs)
	w.AddF64("in.t", []int{1}, []float64{*level})

	f, err := model.NewFeatures(p, B)
	must(err)
	fo := make([]float32, B*D)
	must(f.Run(x, *level, fo))
	addAny(w, "out.features", []int{B, D}, fo)

	stats := func(s model.Stats) []float64 { return []float64{s.Loss, s.MMD2, s.L2, s.GradPenalty, s.GradNorm} }
	tsx, err := model.NewTrainStep(p, B, model.DefaultLoss())
	must(err)
	st, err := tsx.Run(x, y, *level)
	must(err)
	w.AddF64("out.xt.stats", []int{5}, stats(st))
	addParams(w, "out.xt.grad.", tsx.Grads())
	lc := model.DefaultLoss()
	lc.PenaltyAt = model.PenaltyAtInterp
	tsi, err := model.NewTrainStep(p, B, lc)
	must(err)
	st2, err := tsi.RunAt(x, y, z, *level)
	must(err)
	w.AddF64("out.interp.stats", []int{5}, stats(st2))
	addParams(w, "out.interp.grad.", tsi.Grads())
	// Two Adam steps from p: the interp gradient, then the x_t gradient.
	q := p.Clone()
	a, err := model.NewAdam(q, model.DefaultAdam())
	must(err)
	must(a.Update(q, tsi.Grads()))
	must(a.Update(q, tsx.Grads()))
	addParams(w, "out.adam2.", q)

	wit, err := model.NewWitness(p, B)
	must(err)
	g := make([]float32, B*in)
	must(wit.Grad(x, *level, dirs, g))
	addAny(w, "out.witness.grad", img, append([]float32(nil), g...))
	phi := make([]float32, B*D)
	wit.Features(phi)
	addAny(w, "out.witness.phi", []int{B, D}, phi)
	must(wit.Grad(y, *level, dirs[:D], g)) // one shared direction
	addAny(w, "out.witness_shared.grad", img, g)
	must(w.WriteFile(*out))
	fmt.Fprintf(os.Stderr, "wrote %s (%s %dx%dx%d %s, B=%d, BLAS %s): xt %+v interp %+v\n", *out, *preset, cfg.Channels,
		cfg.ImageSize, cfg.ImageSize, cfg.DType, B, model.BLAS(), st, st2)
}

func jsonInts(v []int) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(x)
	}
	return s + "]"
}
