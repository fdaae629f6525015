// Command train trains a DMMD critic (Galashov, De Bortoli, Gretton, ICLR 2025) on an image dataset.
//
// Run it again with the same -out to resume from the latest checkpoint; run with -h for every flag and default.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmmd/dmmd/data/datasets"
	pbar "github.com/dmmd/dmmd/internal/progress"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/train"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// ckptEvery is the -ckpt-every value: a step count, a wall-clock interval, or both ("1000,10m").
type ckptEvery struct {
	steps    int64
	interval time.Duration
}

func (c *ckptEvery) String() string {
	var parts []string
	if c.steps > 0 {
		parts = append(parts, strconv.FormatInt(c.steps, 10))
	}
	if c.interval > 0 {
		parts = append(parts, c.interval.String())
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ",")
}

func (c *ckptEvery) Set(s string) error {
	*c = ckptEvery{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if n, err := strconv.ParseInt(part, 10, 64); err == nil {
			if n < 0 {
				return fmt.Errorf("negative step count %d", n)
			}
			c.steps = n
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is neither a step count nor a duration such as 10m", part)
		}
		c.interval = d
	}
	return nil
}

// perDataset documents the defaults that differ between datasets (train.DefaultConfig holds them).
func perDataset() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-9s %-8s %-8s %-6s %s\n", "dataset", "preset", "steps", "flip", "default -data")
	for _, name := range datasets.Names {
		c, err := train.DefaultConfig(name)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "  %-9s %-8s %-8d %-6t %s\n", name, c.Preset, c.Steps, c.Flip, c.Data)
	}
	return b.String()
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d, _ := train.DefaultConfig(datasets.CIFAR10)
	var (
		dataset   = fs.String("dataset", d.Dataset, "dataset: "+strings.Join(datasets.Names, ", "))
		dataPath  = fs.String("data", "", "dataset location (folder, tarball or zip); default per dataset, see below")
		download  = fs.Bool("download", false, "cifar10: download the official tarball (163 MB, MD5-checked) when absent")
		dataCache = fs.String("data-cache", d.DataCache, "folder for preprocessing caches (celeba64, folder); default next to the data")
		dataLimit = fs.Int("data-limit", d.DataLimit, "use only the first N images (0 = all)")
		pad32     = fs.Bool("mnist-pad32", d.MNISTPad32, "mnist: pad 28x28 digits to 32x32")
		crop      = fs.Int("celeba-crop", d.CelebACrop, "celeba64: centre crop before resizing to 64x64: 140 (score_sde) or 178")
		folderSz  = fs.Int("folder-size", d.FolderSize, "folder: image side after centre crop and resize")
		flip      = fs.Bool("flip", d.Flip, "random horizontal flips; default per dataset, see below")
		out       = fs.String("out", "", "run directory (default runs/<dataset>); an existing run there is resumed")
		fresh     = fs.Bool("fresh", false, "refuse to reuse a non-empty -out instead of resuming")
		from      = fs.Int64("resume-from", 0, "resume from the checkpoint of this step instead of the latest (after a divergence: the one its report names)")
		preset    = fs.String("preset", d.Preset, "model size: "+strings.Join(model.Presets(), ", ")+"; default per dataset")
		steps     = fs.Int64("steps", d.Steps, "total training steps; default per dataset, see below")
		batch     = fs.Int("batch", d.Batch, "images per side of each MMD estimate (the step uses 2x this many)")
		lr        = fs.Float64("lr", d.Adam.LR, "Adam learning rate")
		beta1     = fs.Float64("beta1", d.Adam.Beta1, "Adam beta1")
		beta2     = fs.Float64("beta2", d.Adam.Beta2, "Adam beta2")
		ema       = fs.Float64("ema", d.EMA, "EMA decay of the sampling weights (warm-up min(decay, (1+n)/(10+n)))")
		gradClip  = fs.Float64("grad-clip", d.GradClip, "clip the parameter gradient's global L2 norm to this before Adam (0 = off)")
		lgrad     = fs.Float64("lambda-grad", d.Loss.LambdaGrad, "weight of the gradient penalty mean (||grad_z f|| - 1)^2")
		ll2       = fs.Float64("lambda-l2", d.Loss.LambdaL2, "weight of the l2 (variance) penalty mean f^2")
		tmin      = fs.Float64("tmin", d.Sched.TMin, "smallest noise level t")
		betaMin   = fs.Float64("beta-min", d.Sched.BetaMin, "VP schedule beta(0)")
		betaMax   = fs.Float64("beta-max", d.Sched.BetaMax, "VP schedule beta(1)")
		tdist     = fs.String("tdist", d.TDist, "training level distribution: uniform, or quad (t = tmin + (1-tmin) u^2)")
		penAt     = fs.String("penalty-at", d.Loss.PenaltyAt, "where the gradient penalty reads grad f: xt (the noisy points) or interp (between x_t and y, as WGAN-GP)")
		seed      = fs.Uint64("seed", d.Seed, "seed of the initialisation, the data order and the noise")
		keep      = fs.Int("keep", d.Run.Keep, "keep the newest N checkpoints")
		logEvery  = fs.Int("log-every", d.Run.LogEvery, "print a progress line every N steps when stderr is not a terminal")
		sampleEv  = fs.Int64("sample-every", d.Sample.Every, "write samples/step-<step>.png from the EMA weights every N steps (0 = off)")
		sampleN   = fs.Int("sample-n", d.Sample.Particles, "particles in each sample grid")
		sampleRef = fs.Int("sample-refs", d.Sample.Refs, "score each sample grid by its pixel MMD^2 to this many data images, logged to samples/scores.jsonl (0 = no score)")
		progress  = fs.String("progress", "auto", "progress display: auto (a bar on a terminal), bar, or lines")
	)
	ck := &ckptEvery{steps: d.Run.CkptEvery, interval: time.Duration(d.Run.CkptInterval)}
	fs.Var(ck, "ckpt-every", "checkpoint every N steps and/or every wall-clock interval, e.g. 1000, 10m or 1000,10m")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: train [flags]\n\nTrains a DMMD critic. Running the same command again resumes from the latest\n"+
			"checkpoint in -out; only the flags you give override the run's saved settings.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nPer-dataset defaults (the flag defaults above are cifar10's):\n%s", perDataset())
		fmt.Fprintf(stderr, "\nExamples:\n  train -dataset cifar10 -download -out runs/cifar10\n"+
			"  train -dataset mnist -data ../shared/data/mnist -out runs/mnist -steps 2000\n"+
			"  train -out runs/mnist          # resume\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "train: unexpected arguments %q (flags only; see -h)\n", fs.Args())
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg, err := train.DefaultConfig(*dataset)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// Flags given explicitly override the dataset's defaults (and, on resume, the run's saved settings).
	given := cfg
	given.Data, given.DataCache, given.DataLimit = *dataPath, *dataCache, *dataLimit
	given.MNISTPad32, given.CelebACrop, given.FolderSize, given.Flip = *pad32, *crop, *folderSz, *flip
	given.Preset, given.Steps, given.Batch, given.Seed = *preset, *steps, *batch, *seed
	given.Adam.LR, given.Adam.Beta1, given.Adam.Beta2, given.EMA, given.GradClip = *lr, *beta1, *beta2, *ema, *gradClip
	given.Loss.LambdaGrad, given.Loss.LambdaL2, given.Loss.PenaltyAt = *lgrad, *ll2, *penAt
	given.Sched.TMin, given.Sched.BetaMin, given.Sched.BetaMax, given.TDist = *tmin, *betaMin, *betaMax, *tdist
	given.Run.CkptEvery, given.Run.CkptInterval = ck.steps, train.Duration(ck.interval)
	given.Run.Keep, given.Run.LogEvery = *keep, *logEvery
	given.Sample.Every, given.Sample.Particles, given.Sample.Refs = *sampleEv, *sampleN, *sampleRef
	if set["ckpt-every"] {
		set["ckpt-interval"] = true
	}
	delete(set, "out")
	delete(set, "fresh")
	delete(set, "resume-from")
	delete(set, "download")
	delete(set, "progress")
	if err := train.ApplyFlags(&cfg, &given, set); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *out == "" {
		*out = filepath.Join("runs", cfg.Dataset)
	}
	terminal := false
	switch *progress {
	case "auto":
		terminal = pbar.IsTerminal(stderr)
	case "bar":
		terminal = true
	case "lines":
	default:
		fmt.Fprintf(stderr, "train: -progress %q: want auto, bar or lines\n", *progress)
		return 2
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(stderr, "\ntrain: %v: finishing the current step and writing a checkpoint (again to quit at once)\n", s)
		cancel()
		<-sig
		fmt.Fprintln(stderr, "train: quitting without a checkpoint; the last one is intact")
		os.Exit(130)
	}()

	res, err := train.Run(ctx, cfg, train.Options{
		Out: *out, Fresh: *fresh, ResumeFrom: *from, Set: set, Download: *download, Log: stderr, Terminal: terminal,
		ResumeCommand: resumeCommand(*out),
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if !res.Interrupted && res.StepsPerSec > 0 {
		fmt.Fprintf(stderr, "train: %.3g steps/s\n", res.StepsPerSec)
	}
	return 0
}

// resumeCommand is how to continue a run: the program as invoked (or go run, for a temporary go run binary).
func resumeCommand(out string) string {
	prog := os.Args[0]
	if strings.Contains(prog, "go-build") {
		prog = "go run ./cmd/train"
	}
	return prog + " -out " + out
}
