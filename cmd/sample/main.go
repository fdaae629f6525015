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
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	f, set, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if err := sampleMain(ctx, f, set, stderr); err != nil {
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
	if f.exportReal {
		if !set["n"] {
			f.n = 0 // the whole dataset
		}
		return exportReal(ctx, f, set, stderr)
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
	if set["update"] { // otherwise the update comes from the checkpoint (flowOptions), and so does this check
		if err := checkUpdateFlags(f, set); err != nil {
			return err
		}
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
	params, tcfg, err := rundir.LoadEMA(file)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	fmt.Fprintf(stderr, "sample: %s (step %d, %s %dx%dx%d, preset %s), BLAS %s\n", file.Path(), step, tcfg.Dataset,
		tcfg.Model.Channels, tcfg.Model.ImageSize, tcfg.Model.ImageSize, tcfg.Preset, model.BLAS())
	opt, err := flowOptions(f, set, tcfg.Model.InputSize(), tcfg)
	if err != nil {
		return err
	}
	if opt.RefRatio != 0 {
		fmt.Fprintf(stderr, "sample: the critic was trained with -ref-ratio %v: m_P is the mean feature of the data "+
			"noised to %v t_k\n", opt.RefRatio, opt.RefRatio)
	}
	if !set["update"] && opt.Update != sample.DefaultUpdate {
		fmt.Fprintf(stderr, "sample: -update %v, the default for a -ref-ratio critic (-update %v to override)\n",
			opt.Update, sample.DefaultUpdate)
	}
	if !set["eta"] && opt.Update == sample.DDIM && tcfg.Loss.Penalty == model.PenaltyZero {
		fmt.Fprintf(stderr, "sample: -eta %v, ddim's default for a critic trained with -penalty zero (-eta to override)\n", opt.Eta)
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
	emb, err := embeddings(f, src, esrc, critic, filepath.Dir(file.Path()), levels, opt, stderr)
	if err != nil {
		return err
	}
	flow, err := sample.NewFlow(critic, emb, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: %s flow, %s update, %d levels x %d steps = NFE %d, %d particles per group\n",
		opt.Mode, opt.Update, opt.Levels, opt.StepsPerLevel, flow.NFE(), opt.Particles)
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
		st, err := sample.Export(ctx, flow, f.out, sample.ExportOptions{N: f.n, Shard: f.shard, Progress: stderr,
			Source: map[string]string{"checkpoint": ckptID, "checkpoint_step": strconv.FormatInt(step, 10)}})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "sample: %s: %d written, %d already there (shard %v)\n", f.out, st.Written, st.Skipped, f.shard)
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

// openCheckpoint reads a checkpoint file, or the latest checkpoint of a run directory (rundir.Open).
func openCheckpoint(path string, stderr io.Writer) (*checkpoints.File, int64, error) {
	o, err := rundir.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("sample: -ckpt: %w", err)
	}
	if o.Warning != "" {
		fmt.Fprintf(stderr, "sample: warning: %s\n", o.Warning)
	}
	return o.File, o.Step, nil
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

// embeddings loads the mean embeddings stored next to the checkpoint for this level grid, reference ratio,
// checkpoint and data, or computes them from the data and stores them. A stored file is used only when everything it
// records matches. A stored file of an older dmmd lacks the data's mean square, which the ddim update needs: it is
// computed from the data (no network pass) and added to the file.
func embeddings(f *flags, src *dataSource, esrc sample.EmbeddingsSource, critic *model.Critic, dir string,
	levels []float64, opt sample.Options, stderr io.Writer) (*sample.Embeddings, error) {
	id, err := src.identity()
	if err != nil {
		return nil, fmt.Errorf("sample: the mean embeddings need the data (give -data, and -dataset if it differs): %w", err)
	}
	esrc.Data = id
	rho := opt.RefRatio
	path := sample.EmbeddingsPath(dir, levels, f.embedN, f.embedSeed, rho, esrc)
	store := true
	if emb, got, err := sample.LoadEmbeddings(path); err == nil {
		switch d := got.Diff(esrc); {
		case d != "":
			fmt.Fprintf(stderr, "sample: not using %s: it was computed from %s; recomputing (and not replacing it)\n", path, d)
			store = false
		case emb.RefRatio != rho:
			fmt.Fprintf(stderr, "sample: not using %s: it was computed at the reference ratio %v, not %v; recomputing "+
				"(and not replacing it)\n", path, emb.RefRatio, rho)
			store = false
		case emb.Seed == f.embedSeed && slices.Equal(emb.Levels, levels) && (opt.Mode == sample.Exact || emb.HasNoised()):
			fmt.Fprintf(stderr, "sample: using stored embeddings %s (%d images)\n", filepath.Base(path), emb.M)
			if opt.Update == sample.DDIM && emb.MeanSq == 0 {
				if err := addMeanSquare(src, emb, path, esrc, stderr); err != nil {
					return nil, err
				}
			}
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
		Seed: f.embedSeed, RefRatio: rho, Schedule: src.run.Sched, SkipNoised: opt.Mode == sample.Exact, Progress: stderr})
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

// addMeanSquare sets the data's mean square of stored embeddings that lack it (an older dmmd's) from the same
// images, and rewrites the file with it (the same m_P and m_N, atomically), so that the next run need not read the
// data.
func addMeanSquare(src *dataSource, emb *sample.Embeddings, path string, esrc sample.EmbeddingsSource, stderr io.Writer) error {
	ds, err := src.open()
	if err != nil {
		return fmt.Errorf("sample: the stored embeddings %s do not record the data's mean square (an older dmmd "+
			"wrote them), which -update ddim needs, and the data cannot be read to compute it (give -data): %w",
			filepath.Base(path), err)
	}
	if emb.MeanSq, err = sample.MeanSquare(ds, emb.M); err != nil {
		return err
	}
	if err := sample.SaveEmbeddings(path, emb, esrc); err != nil {
		fmt.Fprintf(stderr, "sample: warning: could not add the data's mean square to %s: %v\n", path, err)
	} else {
		fmt.Fprintf(stderr, "sample: added the data's mean square (%.4g, over %d images) to %s\n", emb.MeanSq, emb.M, filepath.Base(path))
	}
	return nil
}

func exportReal(ctx context.Context, f *flags, set map[string]bool, stderr io.Writer) error {
	if f.out == "" {
		return usagef("-export-real needs -out DIR")
	}
	var tcfg *rundir.TrainConfig
	if f.ckpt != "" {
		file, _, err := openCheckpoint(f.ckpt, stderr)
		if err != nil {
			return err
		}
		if tcfg, err = rundir.ReadTrainConfig(file); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	src := newDataSource(f, set, tcfg, stderr)
	ds, err := src.open()
	if err != nil {
		return err
	}
	st, err := sample.ExportReal(ctx, ds, f.out, sample.ExportOptions{N: f.n, Shard: f.shard, Progress: stderr,
		Source: map[string]string{"dataset": src.o.Name}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sample: %s: %d real images written, %d already there\n", f.out, st.Written, st.Skipped)
	return nil
}
