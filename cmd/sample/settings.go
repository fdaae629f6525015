package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/internal/setting"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

// flags are the sampler's settings: the checkpoint, the data, the flow's options and what to write.
type flags struct {
	ckpt, dataset, dataPath, dataCache string
	dataLimit, crop, folderSize        int
	pad32                              bool
	embedN                             int
	embedSeed                          uint64
	grid, out                          string
	shard                              sample.Shard
	gridN, scale, n, score             int
	exportReal                         bool
	opt                                sample.Options
}

// flowDefaults are the flow's defaults for 3x32x32 images, the ones -h shows; a run's own come from
// sample.DefaultOptionsFor its flow mode, update and image size, with its VP schedule, t_min and reference ratio
// (flowOptions).
var flowDefaults = sample.DefaultOptionsFor(sample.Exact, sample.DefaultUpdate, 3*32*32)

// settings is the one place the sampler's flags are declared (their defaults, help and parsing); -h and README.md's
// table of sampler flags come from it.
var settings = setting.Table[flags]{
	setting.Var("ckpt", func(f *flags) *string { return &f.ckpt }, "",
		"a run directory (its latest checkpoint) or one ckpt-*.safetensors file; the EMA weights are used"),

	// The flow (sample.Options).
	setting.Var("flow", func(f *flags) *sample.Mode { return &f.opt.Mode }, flowDefaults.Mode,
		"exact (interacting particles, leave-one-out mean) or approx (independent; m_Q = noised-data mean)"),
	setting.Var("update", func(f *flags) *sample.Update { return &f.opt.Update }, flowDefaults.Update,
		"euler (Z += eta grad f) or ddim (VP-consistent step along the witness direction, its length from the schedule; "+
			"made for -ref-ratio critics); default: ddim for a checkpoint trained with -ref-ratio > 0, else euler; "+
			"ddim: -eta default 1, -eta-norm and -eta-schedule do not apply"),
	setting.Var("levels", func(f *flags) *int { return &f.opt.Levels }, flowDefaults.Levels, "T: number of noise levels"),
	setting.Var("steps-per-level", func(f *flags) *int { return &f.opt.StepsPerLevel }, flowDefaults.StepsPerLevel,
		"N_s: flow steps per level (NFE = T x N_s)"),
	setting.Var("eta", func(f *flags) *float64 { return &f.opt.Eta }, flowDefaults.Eta,
		"step size (constant, variance), total path length (beta-drop) or ddim's step-length multiplier; approx default: sqrt(dim); ddim default: 1.3, or 1 for a critic trained with -penalty zero"),
	setting.Var("eta-schedule", func(f *flags) *sample.EtaSchedule { return &f.opt.EtaSchedule }, flowDefaults.EtaSchedule,
		"constant, beta-drop (spread in proportion to the drop in beta_t) or variance (eta*beta_t^2); approx default: beta-drop"),
	setting.Var("eta-norm", func(f *flags) *bool { return &f.opt.EtaNorm }, flowDefaults.EtaNorm,
		"divide each step by the flow group's mean per-particle gradient norm"),
	setting.Var("x0-clip", func(f *flags) *bool { return &f.opt.X0Clip }, flowDefaults.X0Clip,
		"ddim: clamp each sub-step's implied clean image to [-1, 1]"),
	setting.Var("ddim-noise", func(f *flags) *float64 { return &f.opt.DDIMNoise }, flowDefaults.DDIMNoise,
		"ddim: fresh noise per sub-step, DDIM's eta (Song et al. 2021, eq. 16): 0 deterministic, 1 the ancestral (DDPM) step"),
	setting.Var("ddim-grad-length", func(f *flags) *bool { return &f.opt.DDIMGradLen }, flowDefaults.DDIMGradLen,
		"ddim: each particle's step length in proportion to its witness-gradient norm over its flow group's mean (the "+
			"schedule's length on average); meant for critics trained with -penalty zero"),
	setting.Var("spacing", func(f *flags) *diffusion.Spacing { return &f.opt.Spacing }, flowDefaults.Spacing,
		"level spacing: uniform or quadratic"),
	setting.Var("noise", func(f *flags) *float64 { return &f.opt.Noise }, flowDefaults.Noise,
		"noise injection: gradient at Z + nu_k u, nu_k from this value at t_max linearly to 0 (0 = off)"),
	setting.Var("clip", func(f *flags) *sample.Clip { return &f.opt.Clip }, flowDefaults.Clip,
		"clamp particles to [-1, 1]: end, step or none"),
	setting.Var("particles", func(f *flags) *int { return &f.opt.Particles }, flowDefaults.Particles,
		"flow-group size N (particles that interact; the unit of sharding)"),
	setting.Var("chunk", func(f *flags) *int { return &f.opt.Chunk }, flowDefaults.Chunk,
		"particles per network call (memory only; results do not depend on it)"),
	setting.Var("seed", func(f *flags) *uint64 { return &f.opt.Seed }, flowDefaults.Seed,
		"seed of the particles' initial noise (each image index has its own stream)"),
	setting.Var("tmax", func(f *flags) *float64 { return &f.opt.TMax }, flowDefaults.TMax, "first (noisiest) level"),
	setting.Var("tmin", func(f *flags) *float64 { return &f.opt.TMin }, 0, "last level (default: the run's t_min)"),
	setting.Var("embed-n", func(f *flags) *int { return &f.embedN }, 5000,
		"training images averaged for the mean embeddings m_P (and m_N)"),
	setting.Var("embed-seed", func(f *flags) *uint64 { return &f.embedSeed }, 0,
		"seed of the forward noise for m_N (approximate flow) and, for a -ref-ratio checkpoint, m_P"),

	// What to write.
	setting.Var("grid", func(f *flags) *string { return &f.grid }, "",
		"write a square grid of samples (2 px border) to this PNG: -n images (64 if -n is not given), at most 64 with -out"),
	setting.Var("scale", func(f *flags) *int { return &f.scale }, 1, "integer upscaling of the grid"),
	setting.Var("score", func(f *flags) *int { return &f.score }, 0,
		"print the grid's pixel MMD^2 to this many training images (lower is better; needs the data; 0 = off)"),
	setting.Var("n", func(f *flags) *int { return &f.n }, 50000,
		"images to export with -out (with -export-real: default the whole dataset)"),
	setting.Var("out", func(f *flags) *string { return &f.out }, "",
		"export folder: 000000.png, 000001.png, ... and nothing else; an interrupted export resumes"),
	setting.Var("shard", func(f *flags) *sample.Shard { return &f.shard }, sample.Shard{},
		"i/n: write only shard i of n (flow groups g with g % n == i); n machines together write what one would"),
	setting.Var("export-real", func(f *flags) *bool { return &f.exportReal }, false,
		"write the dataset's preprocessed real images to -out in the same format (no -ckpt needed)"),

	// The data: the run's unless given.
	setting.Var("dataset", func(f *flags) *string { return &f.dataset }, "",
		"dataset for the mean embeddings and -export-real (default: the run's)"),
	setting.Var("data", func(f *flags) *string { return &f.dataPath }, "", "dataset location (default: the run's)"),
	setting.Var("data-cache", func(f *flags) *string { return &f.dataCache }, "",
		"preprocessing cache folder (default: the run's)"),
	setting.Var("data-limit", func(f *flags) *int { return &f.dataLimit }, 0,
		"use the first N images of the dataset (default: the run's; 0 = all)"),
	setting.Var("mnist-pad32", func(f *flags) *bool { return &f.pad32 }, false, "mnist: pad 28x28 to 32x32 (default: the run's)"),
	setting.Var("celeba-crop", func(f *flags) *int { return &f.crop }, 140, "celeba64: centre crop 140 or 178 (default: the run's)"),
	setting.Var("folder-size", func(f *flags) *int { return &f.folderSize }, 32, "folder: image side (default: the run's)"),
}

// parseFlags parses the sampler's command line; the flags given are reported in set. Like package flag, it reports
// problems on stderr, and returns flag.ErrHelp after printing the help for -h.
func parseFlags(args []string, stderr io.Writer) (f *flags, set map[string]bool, err error) {
	fs := newFlagSet(stderr)
	f = new(flags)
	settings.SetDefaults(f, "")
	settings.Register(fs, f)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("sample: unexpected arguments %q (flags only; see -h)", fs.Args())
		fmt.Fprintln(stderr, err)
		return nil, nil, err
	}
	return f, settings.Given(fs), nil
}

func newFlagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sample -ckpt RUN [-grid grid.png] [-n 50000 -out DIR] [flags]\n"+
			"       sample -export-real -dataset NAME -data PATH -out DIR\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// checkUpdateFlags refuses flags given for the other update: -eta-norm and -eta-schedule with ddim, -x0-clip with
// euler (they would change nothing).
func checkUpdateFlags(f *flags, set map[string]bool) error {
	switch {
	case f.opt.Update == sample.DDIM && (set["eta-norm"] || set["eta-schedule"]):
		return usagef("-eta-norm and -eta-schedule do not apply to -update ddim (its step length comes from the " +
			"schedule; -eta scales it)")
	case f.opt.Update == sample.Euler && set["x0-clip"]:
		return usagef("-x0-clip applies to -update ddim only")
	}
	return nil
}

// flowOptions starts from the defaults for the flow mode, update and image size, with the run's VP schedule, t_min
// and reference ratio, and applies the flags that were given. Without -update the update is
// sample.UpdateFor(the run's reference ratio): ddim for a -ref-ratio critic, euler otherwise.
func flowOptions(f *flags, set map[string]bool, dim int, run *rundir.TrainConfig) (sample.Options, error) {
	if !set["update"] {
		f.opt.Update = sample.UpdateFor(run.RefRatio)
	}
	if err := checkUpdateFlags(f, set); err != nil {
		return sample.Options{}, err
	}
	base := flags{opt: sample.DefaultOptionsFor(f.opt.Mode, f.opt.Update, dim)}
	if base.opt.Update == sample.DDIM {
		base.opt.Eta = sample.DDIMEtaFor(run.Loss.Penalty == model.PenaltyZero)
	}
	base.opt.Schedule, base.opt.TMin, base.opt.RefRatio = run.Sched, run.Sched.TMin, run.RefRatio
	if err := settings.Copy(&base, f, set); err != nil {
		return sample.Options{}, usageError{err}
	}
	if err := base.opt.Validate(); err != nil {
		return base.opt, usageError{err}
	}
	return base.opt, nil
}
