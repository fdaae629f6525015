package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dmmd/dmmd/mmd"
)

// ToyConfig configures the 2-D toy experiment.
type ToyConfig struct {
	// Target is "ring" (Modes Gaussians of std Spread evenly spaced on a
	// circle of radius Radius) or "moons" (two interleaved half circles of
	// radius Radius with Gaussian noise of std Spread).
	Target  string  `json:"target"`
	Modes   int     `json:"modes"`
	Radius  float64 `json:"radius"`
	Spread  float64 `json:"spread"`
	Targets int     `json:"targets"` // M target samples
	// Particles start from N(InitMean, InitStd^2 I), a bad initialisation
	// away from most of the target.
	Particles int        `json:"particles"`
	InitMean  [2]float64 `json:"init_mean"`
	InitStd   float64    `json:"init_std"`
	Kernel    mmd.Kernel `json:"-"`
	StepSize  float64    `json:"step_size"`
	Steps     int        `json:"steps"`
	// Noise is the schedule of the noise-injected run; the other run has
	// none.
	Noise     mmd.NoiseSchedule `json:"-"`
	EvalEvery int               `json:"eval_every"` // steps between MMD^2 evaluations
	Frames    int               `json:"frames"`     // panels per row of the frame strip, including the start and the end
	GIFFrames int               `json:"gif_frames"` // frames of the animation (0: none)
	Seed      uint64            `json:"seed"`
}

// DefaultToy returns the configuration of the README chart.
func DefaultToy() ToyConfig {
	return ToyConfig{
		Target: "ring", Modes: 8, Radius: 2, Spread: 0.15, Targets: 300,
		Particles: 300, InitMean: [2]float64{3, 3}, InitStd: 0.2,
		Kernel: mmd.Gaussian{Sigma: 0.5}, StepSize: 1, Steps: 2000,
		Noise: mmd.HalvingNoise(1, 500), EvalEvery: 10, Frames: 6, GIFFrames: 40, Seed: 1,
	}
}

// Validate reports whether the configuration can run.
func (c ToyConfig) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("mmd: toy: "+format+": %w", append(a, mmd.ErrParam)...)
	}
	switch c.Target {
	case "ring":
		if c.Modes < 1 {
			return bad("ring with %d modes", c.Modes)
		}
	case "moons":
	default:
		return bad("unknown target %q (want ring or moons)", c.Target)
	}
	if !(c.Radius > 0) || math.IsInf(c.Radius, 1) || !(c.Spread >= 0) || math.IsInf(c.Spread, 1) {
		return bad("radius %v and spread %v must be finite, radius > 0 and spread >= 0", c.Radius, c.Spread)
	}
	if c.Targets < 1 || c.Particles < 1 {
		return bad("%d targets and %d particles, need at least one of each", c.Targets, c.Particles)
	}
	if !(c.InitStd >= 0) || math.IsInf(c.InitStd, 1) || math.IsNaN(c.InitMean[0]+c.InitMean[1]) || math.IsInf(c.InitMean[0]+c.InitMean[1], 0) {
		return bad("initialisation N(%v, %v^2) is not finite", c.InitMean, c.InitStd)
	}
	if c.Steps < 1 || c.EvalEvery < 1 {
		return bad("%d steps, evaluated every %d, need both >= 1", c.Steps, c.EvalEvery)
	}
	if c.Frames < 2 || c.GIFFrames < 0 || c.GIFFrames == 1 {
		return bad("%d strip frames and %d GIF frames: need at least 2 (start and end), or 0 GIF frames for none", c.Frames, c.GIFFrames)
	}
	if c.Noise == nil {
		return bad("no noise schedule for the noise-injected run")
	}
	if c.Kernel == nil {
		return bad("no kernel")
	}
	if err := c.Kernel.Validate(); err != nil {
		return err
	}
	return c.Noise.Validate()
}

// ToyTarget draws the configured target sample.
func ToyTarget(c ToyConfig) (mmd.Points, error) {
	if err := c.Validate(); err != nil {
		return mmd.Points{}, err
	}
	r := rand.New(rand.NewPCG(c.Seed, 11))
	p, _ := mmd.NewPoints(c.Targets, 2)
	for i := range c.Targets {
		var x, y float64
		switch c.Target {
		case "ring":
			a := 2 * math.Pi * float64(r.IntN(c.Modes)) / float64(c.Modes)
			x, y = c.Radius*math.Cos(a), c.Radius*math.Sin(a)
		case "moons":
			// Two half circles of radius R: the upper one centred at
			// (-R/2, -R/4), the lower one at (R/2, R/4), interleaved.
			t := math.Pi * r.Float64()
			if i%2 == 0 {
				x, y = c.Radius*math.Cos(t)-c.Radius/2, c.Radius*math.Sin(t)-c.Radius/4
			} else {
				x, y = c.Radius/2-c.Radius*math.Cos(t), c.Radius/4-c.Radius*math.Sin(t)
			}
		}
		p.Data[2*i] = x + c.Spread*r.NormFloat64()
		p.Data[2*i+1] = y + c.Spread*r.NormFloat64()
	}
	return p, nil
}

// ToyInit draws the initial particles.
func ToyInit(c ToyConfig) mmd.Points {
	r := rand.New(rand.NewPCG(c.Seed, 12))
	p, _ := mmd.NewPoints(c.Particles, 2)
	for i := range c.Particles {
		p.Data[2*i] = c.InitMean[0] + c.InitStd*r.NormFloat64()
		p.Data[2*i+1] = c.InitMean[1] + c.InitStd*r.NormFloat64()
	}
	return p
}

// Snapshot is the particle cloud after Step steps.
type Snapshot struct {
	Step      int
	Particles mmd.Points
}

// ToyRun is one flow of the toy experiment.
type ToyRun struct {
	Noise string `json:"noise"`
	// MMD2[i] is the biased MMD^2 to the target after Steps[i] steps.
	Steps       []int      `json:"steps"`
	MMD2        []float64  `json:"mmd2"`
	FinalMMD2   float64    `json:"final_mmd2"`
	WallSeconds float64    `json:"wall_seconds"`
	Snapshots   []Snapshot `json:"-"`
}

// ToySummary holds both runs of the toy experiment.
type ToySummary struct {
	Experiment   string     `json:"experiment"`
	Config       ToyConfig  `json:"config"`
	Kernel       string     `json:"kernel"`
	Noise        string     `json:"noise"`
	InitialMMD2  float64    `json:"initial_mmd2"`
	WithNoise    *ToyRun    `json:"with_noise"`
	WithoutNoise *ToyRun    `json:"without_noise"`
	Machine      Machine    `json:"machine"`
	Target       mmd.Points `json:"-"`
}

// evenSteps returns k steps spread evenly over [0, steps], 0 and steps
// included.
func evenSteps(k, steps int) []int {
	out := make([]int, k)
	for i := range k {
		out[i] = int(math.Round(float64(i) * float64(steps) / float64(k-1)))
	}
	return out
}

// snapshotSteps returns the steps at which particles are kept: those of the
// strip and those of the animation.
func snapshotSteps(c ToyConfig) map[int]bool {
	m := map[int]bool{}
	for _, s := range evenSteps(c.Frames, c.Steps) {
		m[s] = true
	}
	if c.GIFFrames > 1 {
		for _, s := range evenSteps(c.GIFFrames, c.Steps) {
			m[s] = true
		}
	}
	return m
}

// At returns the snapshot taken after step n, or false.
func (r *ToyRun) At(n int) (Snapshot, bool) {
	for _, s := range r.Snapshots {
		if s.Step == n {
			return s, true
		}
	}
	return Snapshot{}, false
}

func runToyFlow(c ToyConfig, target mmd.Points, noise mmd.NoiseSchedule) (*ToyRun, error) {
	start := time.Now()
	flow, err := mmd.NewFlow(target, ToyInit(c), mmd.FlowConfig{Kernel: c.Kernel, StepSize: c.StepSize, Noise: noise, Seed: c.Seed})
	if err != nil {
		return nil, err
	}
	run := &ToyRun{Noise: "none"}
	if noise != nil {
		run.Noise = noise.String()
	}
	snaps := snapshotSteps(c)
	record := func(f *mmd.Flow) error {
		n := f.Iteration()
		if n%c.EvalEvery == 0 || n == c.Steps {
			v, err := f.MMD2()
			if err != nil {
				return err
			}
			run.Steps = append(run.Steps, n)
			run.MMD2 = append(run.MMD2, v)
			run.FinalMMD2 = v
		}
		if snaps[n] {
			run.Snapshots = append(run.Snapshots, Snapshot{Step: n, Particles: f.Particles().Clone()})
		}
		return nil
	}
	if err := record(flow); err != nil {
		return nil, err
	}
	if err := flow.Run(c.Steps, record); err != nil {
		return nil, err
	}
	run.WallSeconds = time.Since(start).Seconds()
	return run, nil
}

// RunToy runs the flow from the same initial particles with c.Noise and
// without noise.
func RunToy(c ToyConfig) (*ToySummary, error) {
	target, err := ToyTarget(c)
	if err != nil {
		return nil, err
	}
	s := &ToySummary{Experiment: "toy", Config: c, Kernel: c.Kernel.String(), Noise: c.Noise.String(),
		Machine: ThisMachine(), Target: target}
	if s.InitialMMD2, err = mmd.MMD2Biased(c.Kernel, target, ToyInit(c)); err != nil {
		return nil, err
	}
	if s.WithNoise, err = runToyFlow(c, target, c.Noise); err != nil {
		return nil, err
	}
	if s.WithoutNoise, err = runToyFlow(c, target, nil); err != nil {
		return nil, err
	}
	return s, nil
}
