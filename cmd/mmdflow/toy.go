package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/mmd"
	"github.com/dmmd/dmmd/mmd/experiments"
)

const toyDesc = `2-D MMD gradient flow: particles start from a bad initialisation,
N(-init-mean, -init-std^2 I), and flow towards a target sample (a ring of
Gaussians or two moons) with the -noise schedule and without noise, from the
same start. Writes into -out, for TARGET = ring or moons:
  toy_TARGET.png         MMD^2 to the target versus iteration
  toy_TARGET_frames.png  snapshots of target and particles (top: no noise)
  toy_TARGET.gif         the animation (unless -gif-frames 0)
  toy_TARGET.json        configuration and curves`

func parsePair(s string) ([2]float64, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return [2]float64{}, fmt.Errorf("want two numbers X,Y, got %q", s)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
	if err != nil {
		return [2]float64{}, err
	}
	y, err := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err != nil {
		return [2]float64{}, err
	}
	return [2]float64{x, y}, nil
}

func runToy(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("toy", toyDesc, stderr)
	def := experiments.DefaultToy()
	c := def
	out := fs.String("out", "runs/mmdflow", "output directory (created if needed)")
	fs.StringVar(&c.Target, "target", def.Target, "target: ring or moons")
	fs.IntVar(&c.Modes, "modes", def.Modes, "ring: number of Gaussians")
	fs.Float64Var(&c.Radius, "radius", def.Radius, "radius of the ring or of each moon")
	fs.Float64Var(&c.Spread, "spread", def.Spread, "std of each ring Gaussian, or of the noise around the moons")
	fs.IntVar(&c.Targets, "targets", def.Targets, "number M of target samples")
	fs.IntVar(&c.Particles, "particles", def.Particles, "number N of particles")
	initMean := fs.String("init-mean", fmt.Sprintf("%g,%g", def.InitMean[0], def.InitMean[1]), "mean X,Y of the initial particles")
	fs.Float64Var(&c.InitStd, "init-std", def.InitStd, "std of the initial particles")
	kernel := fs.String("kernel", "gaussian:0.5", "kernel: gaussian:SIGMA, imq:C[,BETA], rq[:A1,...], rq+linear, linear, poly:DEG[,GAMMA[,COEF0]]")
	fs.Float64Var(&c.StepSize, "step", def.StepSize, "step size gamma")
	fs.IntVar(&c.Steps, "steps", def.Steps, "number of flow steps")
	noise := fs.String("noise", "halve:1,500", "noise schedule of the noisy run: const:B, halve:B0,EVERY, decay:B0,FACTOR,EVERY or list:B0,B1,...")
	fs.IntVar(&c.EvalEvery, "eval-every", def.EvalEvery, "steps between MMD^2 evaluations")
	fs.IntVar(&c.Frames, "frames", def.Frames, "snapshots per row of the frame strip")
	fs.IntVar(&c.GIFFrames, "gif-frames", def.GIFFrames, "frames of the animated GIF (0: no GIF)")
	delay := fs.Int("gif-delay", 10, "delay between GIF frames, in 1/100 s")
	seed := fs.Uint64("seed", def.Seed, "seed of the target, the initial particles and the noise")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c.Seed = *seed
	var err error
	if c.InitMean, err = parsePair(*initMean); err != nil {
		return usageErr("-init-mean: %v", err)
	}
	if c.Kernel, err = mmd.ParseKernel(*kernel); err != nil {
		return usageErr("-kernel: %v", err)
	}
	if c.Noise, err = parseNoiseFlag(*noise); err != nil {
		return err
	}
	if *delay < 1 {
		return usageErr("-gif-delay %d: need >= 1", *delay)
	}
	if err := c.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	s, err := experiments.RunToy(c)
	if err != nil {
		return err
	}
	base := filepath.Join(*out, "toy_"+c.Target)
	written := []string{base + ".json", base + ".png", base + "_frames.png"}
	if err := writeJSON(base+".json", s); err != nil {
		return err
	}
	if err := experiments.PlotToyCurves(s, base+".png"); err != nil {
		return err
	}
	if err := experiments.PlotToyFrames(s, base+"_frames.png"); err != nil {
		return err
	}
	if c.GIFFrames > 0 {
		if err := experiments.ToyGIF(s, base+".gif", *delay); err != nil {
			return err
		}
		written = append(written, base+".gif")
	}
	fmt.Fprintf(stdout, "toy %s: MMD^2 %.4g at the start; after %d steps %.4g with noise (%s), %.4g without (%.1f s + %.1f s)\n",
		c.Target, s.InitialMMD2, c.Steps, s.WithNoise.FinalMMD2, s.Noise, s.WithoutNoise.FinalMMD2,
		s.WithNoise.WallSeconds, s.WithoutNoise.WallSeconds)
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(written, ", "))
	return nil
}

// parseNoiseFlag reads -noise for an experiment that compares a noise schedule with no noise, so "none" is
// a usage error too.
func parseNoiseFlag(s string) (mmd.NoiseSchedule, error) {
	n, err := mmd.ParseNoise(s)
	if err != nil {
		return nil, usageErr("-noise: %v", err)
	}
	if n == nil {
		return nil, usageErr("-noise none: the experiment compares a noise schedule with no noise")
	}
	return n, nil
}
