package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/mmd/experiments"
)

const stDesc = `Arbel et al.'s student-teacher experiment: a teacher network (Hidden ReLU
units, output exp(-x^2/4), weights N(0, 1)) labels inputs uniform on the unit
sphere; a student made of N particles, each a network of the teacher's shape,
predicts the mean of its particles and is trained by SGD, which is the MMD
gradient flow of the particles. Each seed is run with the -noise schedule
(indexed by epoch) and without noise. Writes student_teacher.png and
student_teacher.json into -out, updated every -log-every epochs and when a run
ends, so that a long run leaves partial results.

The defaults are the public code's, except -epochs (10000 there) and so the
noise schedule, which keeps the paper's shape: 10 halvings over the run.`

func parseSeeds(s string) ([]uint64, error) {
	var seeds []uint64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, usageErr("-seeds %q: %v", s, err)
		}
		seeds = append(seeds, v)
	}
	return seeds, nil
}

func runStudentTeacher(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("student-teacher", stDesc, stderr)
	def := experiments.DefaultStudentTeacher()
	c := def
	out := fs.String("out", "runs/mmdflow", "output directory (created if needed)")
	fs.IntVar(&c.Dim, "dim", def.Dim, "input dimension d")
	fs.IntVar(&c.Hidden, "hidden", def.Hidden, "hidden ReLU units of the teacher and of each particle")
	fs.IntVar(&c.Particles, "particles", def.Particles, "number of particles N of the student")
	fs.IntVar(&c.Train, "train", def.Train, "training inputs")
	fs.IntVar(&c.Valid, "valid", def.Valid, "validation inputs")
	fs.IntVar(&c.Batch, "batch", def.Batch, "minibatch size")
	fs.IntVar(&c.Epochs, "epochs", 1000, "epochs (the paper uses 10000)")
	fs.Float64Var(&c.StepSize, "step", def.StepSize, "step size gamma of the flow (the public code's lr 0.1 is gamma 0.05)")
	noise := fs.String("noise", "auto", "noise schedule over epochs: const:B, halve:B0,EVERY, decay:B0,FACTOR,EVERY, list:B0,B1,...\nor auto: halve:1,EPOCHS/10, the paper's level 1 halved every 1000 of 10000 epochs")
	fs.Float64Var(&c.StudentMean, "student-mean", def.StudentMean, "mean of the initial student weights")
	fs.Float64Var(&c.StudentStd, "student-std", def.StudentStd, "std of the initial student weights")
	fs.Float64Var(&c.TeacherStd, "teacher-std", def.TeacherStd, "std of the teacher weights")
	fs.IntVar(&c.EvalEvery, "eval-every", def.EvalEvery, "epochs between validation evaluations")
	seedList := fs.String("seeds", "1,2,3", "comma-separated seeds; each is run with and without noise")
	replot := fs.String("replot", "", "only redraw -out/student_teacher.png from this student_teacher.json (e.g. of an interrupted run); other flags are ignored")
	logEvery := fs.Int("log-every", 500, "print progress and save partial results every this many epochs (0: only at the end of each run, quietly)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *replot != "" {
		return replotStudentTeacher(*replot, *out, stdout)
	}
	seeds, err := parseSeeds(*seedList)
	if err != nil {
		return err
	}
	if *noise == "auto" {
		*noise = fmt.Sprintf("halve:1,%d", max(1, c.Epochs/10))
	}
	if c.Noise, err = parseNoiseFlag(*noise); err != nil {
		return err
	}
	if *logEvery < 0 {
		return usageErr("-log-every %d: need >= 0", *logEvery)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	jsonPath := filepath.Join(*out, "student_teacher.json")
	pngPath := filepath.Join(*out, "student_teacher.png")
	save := func(s *experiments.StudentTeacherSummary) error {
		if err := writeJSON(jsonPath, s); err != nil {
			return err
		}
		return experiments.PlotStudentTeacher(s, pngPath)
	}
	// Log, and save partial results, every -log-every epochs and when a run
	// ends; a failed save stops nothing but is reported at the end.
	var saveErr error
	progress := func(s *experiments.StudentTeacherSummary, r *experiments.StudentTeacherRun) {
		epoch := r.Epochs[len(r.Epochs)-1]
		if !r.Done && (*logEvery == 0 || epoch%*logEvery != 0) {
			return
		}
		if *logEvery > 0 {
			state := ""
			if r.Done {
				state = fmt.Sprintf("  done in %.0f s", r.WallSeconds)
			}
			fmt.Fprintf(stderr, "seed %d noise %-28s epoch %6d  valid loss %.6g%s\n", r.Seed, r.Noise, epoch, r.FinalValid, state)
		}
		if err := save(s); err != nil && saveErr == nil {
			saveErr = err
		}
	}
	s, err := experiments.CompareStudentTeacher(c, seeds, progress)
	if err != nil {
		return err
	}
	if saveErr != nil {
		return saveErr
	}
	if err := save(s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "student-teacher d=%d N=%d, %d epochs, seeds %v, %.0f s\n", c.Dim, c.Particles, c.Epochs, seeds, s.WallSeconds)
	for i, seed := range seeds {
		fmt.Fprintf(stdout, "  seed %d: final validation loss %.6g with noise, %.6g without (best %.6g, %.6g)\n", seed,
			s.WithNoise[i].FinalValid, s.WithoutNoise[i].FinalValid, s.WithNoise[i].BestValid, s.WithoutNoise[i].BestValid)
	}
	fmt.Fprintf(stdout, "  mean: %.6g with noise, %.6g without; noise lower on %d of %d seeds\n",
		s.MeanFinalNoise, s.MeanFinalNoNoise, s.NoiseWins, len(seeds))
	fmt.Fprintf(stdout, "wrote %s and %s\n", pngPath, jsonPath)
	return nil
}

func replotStudentTeacher(summary, out string, stdout io.Writer) error {
	b, err := os.ReadFile(summary)
	if err != nil {
		return err
	}
	var s experiments.StudentTeacherSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: -replot %s: %v", errUsage, summary, err)
	}
	if s.Experiment != "student-teacher" || len(s.WithNoise) == 0 || len(s.WithoutNoise) == 0 {
		return usageErr("-replot %s: not a student-teacher summary with runs", summary)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	png := filepath.Join(out, "student_teacher.png")
	if err := experiments.PlotStudentTeacher(&s, png); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", png)
	return nil
}
