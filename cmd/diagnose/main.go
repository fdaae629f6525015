// Command diagnose prints the critic diagnostics of a DMMD checkpoint (train.DiagnoseCritic): per noise level, the
// MMD^2, the witness on clean and noisy images, the features' participation ratio, the share of variance along
// the witness direction and how well the witness gradient points from x_t to its clean image. The trainer writes
// the same numbers to the run's diagnostics.jsonl at every checkpoint; README.md explains how to read them.
//
//	diagnose -ckpt runs/mnist                                   the latest checkpoint, as a table
//	diagnose -ckpt runs/mnist/ckpt-000002000.safetensors -json  one checkpoint, as a diagnostics.jsonl line
//
// The data are the run's (from the checkpoint's configuration): its dataset's test split when there is one, else
// training images chosen with -seed (not held out). -data points at the data when they have moved.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/train"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// flags are the command's settings.
type flags struct {
	ckpt, data string
	n          int
	levels     levelList
	seed       uint64
	json       bool
}

// levelList is the -levels flag: comma-separated noise levels.
type levelList []float64

func (l *levelList) String() string {
	var s []string
	for _, t := range *l {
		s = append(s, strconv.FormatFloat(t, 'g', -1, 64))
	}
	return strings.Join(s, ",")
}

func (l *levelList) Set(v string) error {
	*l = nil
	for _, part := range strings.Split(v, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(t >= 0 && t <= 1) {
			return fmt.Errorf("%q is not a level in [0, 1]", part)
		}
		*l = append(*l, t)
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{levels: train.DiagLevels()}
	fs := flag.NewFlagSet("diagnose", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.ckpt, "ckpt", "", "a run directory (its latest checkpoint) or one ckpt-*.safetensors file; the EMA weights are used")
	fs.StringVar(&f.data, "data", "", "dataset location (default: the run's)")
	fs.IntVar(&f.n, "n", train.DefaultDiagN, "images per set: n clean and n other clean images noised to x_t (at most half the images)")
	fs.Var(&f.levels, "levels", "comma-separated noise levels t")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the choice of images and of the noise (the trainer uses 0)")
	fs.BoolVar(&f.json, "json", false, "print the diagnostics.jsonl record (one JSON line) instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: diagnose -ckpt RUN|CKPT [-n 256] [-levels 0.02,...,1] [-json] [-data PATH]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("diagnose: unexpected arguments %q (flags only; see -h)", fs.Args())
		fmt.Fprintln(stderr, err)
		return nil, err
	}
	return f, nil
}

// usageError marks errors in the flags themselves (exit status 2).
type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if err := diagnose(f, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	return 0
}

func diagnose(f *flags, stdout, stderr io.Writer) error {
	switch {
	case f.ckpt == "":
		return usageError{errors.New("diagnose: -ckpt is required (a run directory or a checkpoint file)")}
	case f.n < 2:
		return usageError{fmt.Errorf("diagnose: -n %d: need at least 2 images per set", f.n)}
	case len(f.levels) == 0:
		return usageError{errors.New("diagnose: -levels is empty")}
	}
	ck, err := rundir.Open(f.ckpt) // a checkpoint file, or the latest checkpoint of a run directory
	if err != nil {
		return fmt.Errorf("diagnose: -ckpt: %w", err)
	}
	if ck.Warning != "" {
		fmt.Fprintf(stderr, "diagnose: warning: %s\n", ck.Warning)
	}
	file, step := ck.File, ck.Step
	params, cfg, err := train.LoadEMA(file)
	if err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	if f.data != "" {
		cfg.Data = f.data
	}
	ds, heldOut, err := openData(cfg, f.seed, stderr)
	if err != nil {
		return err
	}
	n := f.n
	if 2*n > ds.Len() {
		n = ds.Len() / 2
		fmt.Fprintf(stderr, "diagnose: note: %d images: using n = %d per set\n", ds.Len(), n)
	}
	d, err := train.DiagnoseCritic(params, ds, cfg.Sched, train.DiagOptions{N: n, Levels: f.levels, Seed: f.seed,
		RefLevel: cfg.RefLevelFunc()})
	if err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	d.Step, d.HeldOut = step, heldOut
	if f.json {
		return printJSON(stdout, d)
	}
	source := "training images (not held out)"
	if heldOut {
		source = "held-out images (the " + cfg.Dataset + " test split)"
	}
	fmt.Fprintf(stdout, "%s (step %d): %s, preset %s; n = %d %s per set, seed %d\n", file.Path(), step,
		cfg.Dataset, cfg.Preset, d.N, source, d.Seed)
	return printTable(stdout, d)
}

// openData opens the run's test split (train.OpenHeldOut) or, when it has none, the run's training images with
// the run's preprocessing, checked against the model's image shape.
func openData(cfg *train.Config, seed uint64, stderr io.Writer) (data.Dataset, bool, error) {
	ds, err := train.OpenHeldOut(cfg)
	if err == nil {
		return ds, true, nil
	}
	fmt.Fprintf(stderr, "diagnose: note: %v; using training images chosen with seed %d (not held out)\n", err, seed)
	ds, err = datasets.Open(datasets.Options{Name: cfg.Dataset, Path: cfg.Data, CacheDir: cfg.DataCache,
		Size: cfg.FolderSize, Crop: cfg.CelebACrop, Pad32: cfg.MNISTPad32, Limit: cfg.DataLimit, Progress: stderr})
	if err != nil {
		return nil, false, fmt.Errorf("diagnose: the run's data (%s at %q) cannot be opened: %w; give -data", cfg.Dataset,
			cfg.Data, err)
	}
	m := cfg.Model
	if s := ds.Shape(); s.C != m.Channels || s.H != m.ImageSize || s.W != m.ImageSize {
		return nil, false, fmt.Errorf("diagnose: the data at %s are %v images, the checkpoint's model takes %dx%dx%d",
			cfg.Data, s, m.Channels, m.ImageSize, m.ImageSize)
	}
	return ds, false, nil
}
