// Command sample turns a DMMD checkpoint into images with the noise-adaptive MMD gradient flow: a sample grid,
// or a flat folder of PNGs that pytorch-fid and clean-fid read as they are. It also exports preprocessed real
// images in the same format for reference statistics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/sample"
	"github.com/dmmd/dmmd/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

type flags struct {
	ckpt, dataset, dataPath, dataCache string
	dataLimit, crop, folderSize        int
	pad32                              bool
	embedN                             int
	embedSeed                          uint64
	grid, out, shard                   string
	gridN, scale, n, score             int
	exportReal                         bool
	flow, etaSchedule, spacing, clip   string
	opt                                sample.Options
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	def := sample.DefaultOptions(sample.Exact, 3*32*32)
	fs.StringVar(&f.ckpt, "ckpt", "", "a run directory (its latest checkpoint) or one ckpt-*.safetensors file; the EMA weights are used")
	fs.StringVar(&f.dataset, "dataset", "", "dataset for the mean embeddings and -export-real (default: the run's)")
	fs.StringVar(&f.dataPath, "data", "", "dataset location (default: the run's)")
	fs.StringVar(&f.dataCache, "data-cache", "", "preprocessing cache folder (default: the run's)")
	fs.IntVar(&f.dataLimit, "data-limit", 0, "use the first N images of the dataset (default: the run's; 0 = all)")
	fs.BoolVar(&f.pad32, "mnist-pad32", false, "mnist: pad 28x28 to 32x32 (default: the run's)")
	fs.IntVar(&f.crop, "celeba-crop", 140, "celeba64: centre crop 140 or 178 (default: the run's)")
	fs.IntVar(&f.folderSize, "folder-size", 32, "folder: image side (default: the run's)")
	fs.IntVar(&f.embedN, "embed-n", 5000, "training images averaged for the mean embeddings m_P (and m_N)")
	fs.Uint64Var(&f.embedSeed, "embed-seed", 0, "seed of the forward noise for m_N (approximate flow)")
	fs.StringVar(&f.flow, "flow", "exact", "exact (interacting particles, leave-one-out mean) or approx (independent; m_Q = noised-data mean)")
	fs.IntVar(&f.opt.Levels, "levels", def.Levels, "T: number of noise levels")
	fs.IntVar(&f.opt.StepsPerLevel, "steps-per-level", def.StepsPerLevel, "N_s: flow steps per level (NFE = T x N_s)")
	fs.Float64Var(&f.opt.Eta, "eta", def.Eta, "step size (constant, variance) or total path length (beta-drop); approx default: sqrt(dim)")
	fs.StringVar(&f.etaSchedule, "eta-schedule", "constant", "constant, beta-drop (spread in proportion to the drop in beta_t) or variance (eta*beta_t^2); approx default: beta-drop")
	fs.BoolVar(&f.opt.EtaNorm, "eta-norm", def.EtaNorm, "divide each step by the flow group's mean per-particle gradient norm")
	fs.StringVar(&f.spacing, "spacing", def.Spacing.String(), "level spacing: uniform or quadratic")
	fs.Float64Var(&f.opt.Noise, "noise", def.Noise, "noise injection: gradient at Z + nu_k u, nu_k from this value at t_max linearly to 0 (0 = off)")
	fs.StringVar(&f.clip, "clip", "end", "clamp particles to [-1, 1]: end, step or none")
	fs.IntVar(&f.opt.Particles, "particles", def.Particles, "flow-group size N (particles that interact; the unit of sharding)")
	fs.IntVar(&f.opt.Chunk, "chunk", def.Chunk, "particles per network call (memory only; results do not depend on it)")
	fs.Uint64Var(&f.opt.Seed, "seed", def.Seed, "seed of the particles' initial noise")
	fs.Float64Var(&f.opt.TMax, "tmax", def.TMax, "first (noisiest) level")
	fs.Float64Var(&f.opt.TMin, "tmin", 0, "last level (default: the run's t_min)")
	fs.StringVar(&f.grid, "grid", "", "write a square grid of samples to this PNG: -n images (64 if -n is not given), at most 64 with -out")
	fs.IntVar(&f.scale, "scale", 1, "integer upscaling of the grid")
	fs.IntVar(&f.score, "score", 0, "print the grid's pixel MMD^2 to this many training images (lower is better; needs the data; 0 = off)")
	fs.IntVar(&f.n, "n", 50000, "images to export with -out (with -export-real: default the whole dataset)")
	fs.StringVar(&f.out, "out", "", "export folder: 000000.png, 000001.png, ... and nothing else; an interrupted export resumes")
	fs.StringVar(&f.shard, "shard", "", "i/n: write only shard i of n (flow groups g with g % n == i); n machines together write what one would")
	fs.BoolVar(&f.exportReal, "export-real", false, "write the dataset's preprocessed real images to -out in the same format (no -ckpt needed)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sample -ckpt RUN [-grid grid.png] [-n 50000 -out DIR] [flags]\n"+
			"       sample -export-real -dataset NAME -data PATH -out DIR\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sample: unexpected arguments %q (flags only; see -h)\n", fs.Args())
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := sampleMain(ctx, &f, set, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		var usage usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks errors in the flags themselves (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf("sample: "+format, args...)}
}

func sampleMain(ctx context.Context, f *flags, set map[string]bool, stderr io.Writer) error {
	shard, err := sample.ParseShard(f.shard)
	if err != nil {
		return usageError{err}
	}
	if f.exportReal {
		if !set["n"] {
			f.n = 0 // the whole dataset
		}
		return exportReal(ctx, f, set, shard, stderr)
	}
	if f.ckpt == "" {
		return usagef("-ckpt is required (a run directory or a checkpoint file)")
	}
	if f.grid == "" && f.out == "" {
		return usagef("nothing to do: give -grid PATH, -out DIR (with -n), or both")
	}
	if f.n < 1 || f.scale < 1 || f.embedN < 2 {
		return usagef("-n and -scale must be positive and -embed-n at least 2")
	}
	if f.score < 0 || f.score == 1 || (f.score > 0 && f.grid == "") {
		return usagef("-score %d: give 0 (off) or at least 2 images, with -grid", f.score)
	}
	f.gridN = f.n
	if !set["n"] {
		f.gridN = 64
	}
	if f.out != "" {
		f.gridN = min(f.gridN, 64)
	}
	if f.grid != "" {
		if err := checkGridPath(f.grid); err != nil {
			return err
		}
	}
	file, step, err := openCheckpoint(f.ckpt, stderr)
	if err != nil {
		return err
	}
	params, tcfg, err := train.LoadEMA(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: %s (step %d, %s %dx%dx%d, preset %s), BLAS %s\n", file.Path(), step, tcfg.Dataset,
		tcfg.Model.Channels, tcfg.Model.ImageSize, tcfg.Model.ImageSize, tcfg.Preset, model.BLAS())
	opt, err := flowOptions(f, set, tcfg)
	if err != nil {
		return err
	}
	// Everything that can be checked before the expensive work is checked first.
	if err := opt.ValidateFor(modelShape(tcfg), tcfg.Model.FeatureDim); err != nil {
		return usageError{err}
	}
	if f.grid != "" {
		if err := sample.CheckGrid(f.gridN, modelShape(tcfg), f.scale); err != nil {
			return usageError{err}
		}
	}
	src := newDataSource(f, set, tcfg, stderr)
	ckptID, _ := file.Meta(checkpoints.MetaChecksum)
	critic, err := model.NewCritic(params, min(opt.Chunk, opt.Particles))
	if err != nil {
		return err
	}
	defer critic.Close()
	levels, err := opt.LevelGrid()
	if err != nil {
		return usageError{err}
	}
	esrc := sample.EmbeddingsSource{Step: step, Checkpoint: ckptID}
	emb, err := embeddings(f, src, esrc, critic, filepath.Dir(file.Path()), levels, opt.Mode, stderr)
	if err != nil {
		return err
	}
	flow, err := sample.NewFlow(critic, emb, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: %s flow, %d levels x %d steps = NFE %d, %d particles per group\n",
		f.flow, opt.Levels, opt.StepsPerLevel, flow.NFE(), opt.Particles)
	if f.grid != "" {
		x, err := flow.Sample(f.gridN)
		if err != nil {
			return err
		}
		if err := sample.WriteGrid(f.grid, x, flow.Shape(), f.scale); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "sample: wrote %s (%d images)\n", f.grid, f.gridN)
		if f.score > 0 {
			if err := printScore(f, src, x, stderr); err != nil {
				return err
			}
		}
	}
	if f.out != "" {
		st, err := sample.Export(ctx, flow, f.out, sample.ExportOptions{N: f.n, Shard: shard, Progress: stderr,
			Source: map[string]string{"checkpoint": ckptID, "checkpoint_step": strconv.FormatInt(step, 10)}})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "sample: %s: %d written, %d already there (shard %v)\n", f.out, st.Written, st.Skipped, shard)
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "sample: interrupted; run the same command again to finish the export\n")
		}
	}
	return nil
}

// checkGridPath refuses to replace anything but a PNG image at the grid's path, so a mistyped -grid never
// destroys a file that is not a grid.
func checkGridPath(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sample: -grid: %w", err)
	}
	defer f.Close()
	if _, err := png.DecodeConfig(f); err != nil {
		return fmt.Errorf("sample: -grid %s exists and is not a PNG image; refusing to replace it", path)
	}
	return nil
}

// openCheckpoint reads a checkpoint file, or the latest checkpoint of a run directory.
func openCheckpoint(path string, stderr io.Writer) (*checkpoints.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("sample: -ckpt: %w", err)
	}
	if fi.IsDir() {
		run, err := checkpoints.OpenRun(path)
		if err != nil {
			return nil, 0, fmt.Errorf("sample: %w", err)
		}
		ld, err := run.Latest()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("sample: -ckpt %s holds no checkpoint yet", path)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("sample: %w", err)
		}
		if ld.Warning != "" {
			fmt.Fprintf(stderr, "sample: warning: %s\n", ld.Warning)
		}
		return ld.File, ld.Step, nil
	}
	file, err := checkpoints.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("sample: %w", err)
	}
	var step int64
	if v, ok := file.Meta(checkpoints.MetaStep); ok {
		if step, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, 0, fmt.Errorf("sample: %s: step metadata %q: %w", path, v, err)
		}
	}
	return file, step, nil
}

// flowOptions starts from the defaults for the flow mode and image size and applies the flags that were given.
func flowOptions(f *flags, set map[string]bool, tcfg *train.Config) (sample.Options, error) {
	mode, err := sample.ParseMode(f.flow)
	if err != nil {
		return sample.Options{}, usageError{err}
	}
	opt := sample.DefaultOptions(mode, tcfg.Model.InputSize())
	opt.Schedule = tcfg.Sched
	opt.TMin = tcfg.Sched.TMin
	given := f.opt
	for name, apply := range map[string]func(){
		"levels":          func() { opt.Levels = given.Levels },
		"steps-per-level": func() { opt.StepsPerLevel = given.StepsPerLevel },
		"eta":             func() { opt.Eta = given.Eta },
		"eta-norm":        func() { opt.EtaNorm = given.EtaNorm },
		"noise":           func() { opt.Noise = given.Noise },
		"particles":       func() { opt.Particles = given.Particles },
		"chunk":           func() { opt.Chunk = given.Chunk },
		"seed":            func() { opt.Seed = given.Seed },
		"tmax":            func() { opt.TMax = given.TMax },
		"tmin":            func() { opt.TMin = given.TMin },
	} {
		if set[name] {
			apply()
		}
	}
	if set["eta-schedule"] {
		if opt.EtaSchedule, err = sample.ParseEtaSchedule(f.etaSchedule); err != nil {
			return opt, usageError{err}
		}
	}
	if set["spacing"] {
		if opt.Spacing, err = diffusion.ParseSpacing(f.spacing); err != nil {
			return opt, usageError{err}
		}
	}
	if set["clip"] {
		if opt.Clip, err = sample.ParseClip(f.clip); err != nil {
			return opt, usageError{err}
		}
	}
	if err := opt.Validate(); err != nil {
		return opt, usageError{err}
	}
	return opt, nil
}

// printScore prints the pixel MMD^2 between the samples x and f.score training images (sample.Scorer).
func printScore(f *flags, src *dataSource, x []float32, stderr io.Writer) error {
	ds, err := src.open()
	if err != nil {
		return fmt.Errorf("sample: -score needs the training data (give -data): %w", err)
	}
	sc, err := sample.NewScorer(ds, f.score)
	if err != nil {
		return err
	}
	if sc.Note() != "" {
		fmt.Fprintf(stderr, "sample: note: score: %s\n", sc.Note())
	}
	m, err := sc.Score(x)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: score (pixel MMD^2 to %d training images, Gaussian width %.3g): %.4g; N(0, I) noise scores %.4g; lower is better\n",
		sc.References(), sc.Sigma(), m, sc.NoiseBaseline())
	return nil
}

// embeddings loads the mean embeddings stored next to the checkpoint for this level grid, checkpoint and data, or
// computes them from the data and stores them. A stored file is used only when everything it records matches.
func embeddings(f *flags, src *dataSource, esrc sample.EmbeddingsSource, critic *model.Critic, dir string,
	levels []float64, mode sample.Mode, stderr io.Writer) (*sample.Embeddings, error) {
	id, err := src.identity()
	if err != nil {
		return nil, fmt.Errorf("sample: the mean embeddings need the data (give -data, and -dataset if it differs): %w", err)
	}
	esrc.Data = id
	path := sample.EmbeddingsPath(dir, levels, f.embedN, f.embedSeed, esrc)
	store := true
	if emb, got, err := sample.LoadEmbeddings(path); err == nil {
		switch d := got.Diff(esrc); {
		case d != "":
			fmt.Fprintf(stderr, "sample: not using %s: it was computed from %s; recomputing (and not replacing it)\n", path, d)
			store = false
		case emb.Seed == f.embedSeed && slices.Equal(emb.Levels, levels) && (mode == sample.Exact || emb.HasNoised()):
			fmt.Fprintf(stderr, "sample: using stored embeddings %s (%d images)\n", filepath.Base(path), emb.M)
			return emb, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "sample: ignoring %v; recomputing\n", err)
	}
	ds, err := src.open()
	if err != nil {
		return nil, fmt.Errorf("sample: the mean embeddings for this level grid are not stored next to the checkpoint "+
			"and the data cannot be used (give -data, and -dataset if it differs): %w", err)
	}
	fmt.Fprintf(stderr, "sample: computing mean embeddings over %d images at %d levels\n", min(f.embedN, ds.Len()), len(levels))
	emb, err := sample.ComputeEmbeddings(critic, ds, levels, sample.EmbedOptions{M: f.embedN, Batch: critic.Chunk(),
		Seed: f.embedSeed, Schedule: src.run.Sched, SkipNoised: mode == sample.Exact, Progress: stderr})
	if err != nil {
		return nil, err
	}
	if !store {
		return emb, nil
	}
	if err := sample.SaveEmbeddings(path, emb, esrc); err != nil {
		fmt.Fprintf(stderr, "sample: warning: could not store the embeddings: %v\n", err)
	} else {
		fmt.Fprintf(stderr, "sample: stored %s\n", path)
	}
	return emb, nil
}

func exportReal(ctx context.Context, f *flags, set map[string]bool, shard sample.Shard, stderr io.Writer) error {
	if f.out == "" {
		return usagef("-export-real needs -out DIR")
	}
	var tcfg *train.Config
	if f.ckpt != "" {
		file, _, err := openCheckpoint(f.ckpt, stderr)
		if err != nil {
			return err
		}
		if tcfg, err = train.ConfigFromCheckpoint(file); err != nil {
			return err
		}
	}
	src := newDataSource(f, set, tcfg, stderr)
	ds, err := src.open()
	if err != nil {
		return err
	}
	st, err := sample.ExportReal(ctx, ds, f.out, sample.ExportOptions{N: f.n, Shard: shard, Progress: stderr,
		Source: map[string]string{"dataset": src.o.Name}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: %s: %d real images written, %d already there\n", f.out, st.Written, st.Skipped)
	return nil
}
