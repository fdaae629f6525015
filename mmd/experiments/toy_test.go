package experiments

import (
	"errors"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dmmd/dmmd/mmd"
)

func smallToy(target string) ToyConfig {
	c := DefaultToy()
	c.Target, c.Targets, c.Particles, c.Steps, c.EvalEvery, c.Frames, c.GIFFrames = target, 60, 40, 40, 5, 3, 5
	c.Noise = mmd.HalvingNoise(0.5, 10)
	return c
}

func TestToyTargets(t *testing.T) {
	for _, target := range []string{"ring", "moons"} {
		c := smallToy(target)
		c.Targets, c.Spread = 400, 0
		p, err := ToyTarget(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.Len() != 400 || p.Dim != 2 {
			t.Fatalf("%s: %d points in R^%d", target, p.Len(), p.Dim)
		}
		for i := range p.Len() {
			x, y := p.Data[2*i], p.Data[2*i+1]
			// Each point lies on a circle of radius Radius about the ring's
			// centre or one of the two moons' centres.
			off := math.Abs(math.Hypot(x, y) - c.Radius)
			if target == "moons" {
				off = math.Min(math.Abs(math.Hypot(x+c.Radius/2, y+c.Radius/4)-c.Radius),
					math.Abs(math.Hypot(x-c.Radius/2, y-c.Radius/4)-c.Radius))
			}
			if off > 1e-9 {
				t.Fatalf("%s: point (%g, %g) is %g off its circle", target, x, y, off)
			}
		}
	}
}

func TestRunToyAndCharts(t *testing.T) {
	dir := t.TempDir()
	for _, target := range []string{"ring", "moons"} {
		c := smallToy(target)
		s, err := RunToy(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*ToyRun{s.WithNoise, s.WithoutNoise} {
			if len(r.Steps) != 9 || r.Steps[8] != 40 || len(r.Snapshots) != 5 {
				t.Errorf("%s %s: evaluations at %v, %d snapshots", target, r.Noise, r.Steps, len(r.Snapshots))
			}
			if r.MMD2[0] != s.InitialMMD2 || !(r.FinalMMD2 < s.InitialMMD2) {
				t.Errorf("%s %s: MMD^2 %g -> %g, initial %g", target, r.Noise, r.MMD2[0], r.FinalMMD2, s.InitialMMD2)
			}
		}
		curves, frames, anim := filepath.Join(dir, target+".png"), filepath.Join(dir, target+"_frames.png"), filepath.Join(dir, target+".gif")
		if err := PlotToyCurves(s, curves); err != nil {
			t.Fatal(err)
		}
		if err := PlotToyFrames(s, frames); err != nil {
			t.Fatal(err)
		}
		if err := ToyGIF(s, anim, 10); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{curves, frames} {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(f); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			f.Close()
		}
		f, err := os.Open(anim)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gif.DecodeAll(f)
		f.Close()
		if err != nil || len(g.Image) != c.GIFFrames {
			t.Errorf("%s: %v, %d frames", anim, err, len(g.Image))
		}
	}
}

func TestToyValidate(t *testing.T) {
	mods := []func(*ToyConfig){
		func(c *ToyConfig) { c.Target = "spiral" },
		func(c *ToyConfig) { c.Modes = 0 },
		func(c *ToyConfig) { c.Radius = 0 },
		func(c *ToyConfig) { c.Particles = 0 },
		func(c *ToyConfig) { c.InitMean[0] = math.Inf(1) },
		func(c *ToyConfig) { c.Steps = 0 },
		func(c *ToyConfig) { c.Frames = 1 },
		func(c *ToyConfig) { c.GIFFrames = 1 },
		func(c *ToyConfig) { c.Noise = nil },
		func(c *ToyConfig) { c.Kernel = mmd.Gaussian{} },
		func(c *ToyConfig) { c.StepSize = 0 },
	}
	for i, m := range mods {
		c := DefaultToy()
		m(&c)
		if _, err := RunToy(c); !errors.Is(err, mmd.ErrParam) {
			t.Errorf("case %d: err = %v, want ErrParam", i, err)
		}
	}
}

func TestPlotStudentTeacher(t *testing.T) {
	c := DefaultStudentTeacher()
	c.Dim, c.Particles, c.Train, c.Valid, c.Batch, c.Epochs, c.EvalEvery = 4, 5, 20, 20, 10, 6, 2
	var calls, done int
	s, err := CompareStudentTeacher(c, []uint64{1, 2}, func(s *StudentTeacherSummary, r *StudentTeacherRun) {
		calls++
		if r.Done {
			done++
			if s.SeedsDone != done/2 {
				t.Errorf("after %d finished runs, %d seeds done", done, s.SeedsDone)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// 4 evaluations (epochs 0, 2, 4, 6) and one "done" call per run.
	if calls != 4*5 || done != 4 || len(s.WithNoise[1].Valid) != 4 || s.WithNoise[0].Epochs[3] != 6 || !s.Complete {
		t.Fatalf("%d callbacks, %d done, evaluations at %v", calls, done, s.WithNoise[0].Epochs)
	}
	path := filepath.Join(t.TempDir(), "st.png")
	if err := PlotStudentTeacher(s, path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("chart: %v", err)
	}
	if _, err := CompareStudentTeacher(c, nil, nil); !errors.Is(err, mmd.ErrParam) {
		t.Errorf("no seeds: %v", err)
	}
	c.Noise = nil
	if _, err := CompareStudentTeacher(c, []uint64{1}, nil); !errors.Is(err, mmd.ErrParam) {
		t.Errorf("no noise: %v", err)
	}
}
