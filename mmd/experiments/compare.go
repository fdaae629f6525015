package experiments

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/dmmd/dmmd/mmd"
)

// Machine describes the computer a run was made on.
type Machine struct {
	CPU      string `json:"cpu"`
	NumCPU   int    `json:"num_cpu"`
	GOOS     string `json:"goos"`
	GOARCH   string `json:"goarch"`
	Go       string `json:"go"`
	Parallel int    `json:"gomaxprocs"`
}

// ThisMachine returns a description of the current machine.
func ThisMachine() Machine {
	m := Machine{CPU: "unknown", NumCPU: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Go: runtime.Version(), Parallel: runtime.GOMAXPROCS(0)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// StudentTeacherSummary compares runs with and without noise injection on
// the same seeds.
type StudentTeacherSummary struct {
	Experiment string               `json:"experiment"`
	Config     StudentTeacherConfig `json:"config"`
	Noise      string               `json:"noise"`
	Seeds      []uint64             `json:"seeds"`
	// Complete is false while runs are still to come.
	Complete bool `json:"complete"`
	// WithNoise[i] and WithoutNoise[i] are the runs on Seeds[i].
	WithNoise    []*StudentTeacherRun `json:"with_noise"`
	WithoutNoise []*StudentTeacherRun `json:"without_noise"`
	// Mean final validation losses over the finished seeds.
	MeanFinalNoise   float64 `json:"mean_final_valid_noise"`
	MeanFinalNoNoise float64 `json:"mean_final_valid_no_noise"`
	// NoiseWins counts seeds where noise injection ended lower.
	NoiseWins   int     `json:"noise_wins"`
	WallSeconds float64 `json:"wall_seconds"`
	Machine     Machine `json:"machine"`
}

func (s *StudentTeacherSummary) update() {
	s.MeanFinalNoise, s.MeanFinalNoNoise, s.NoiseWins = 0, 0, 0
	n := len(s.WithoutNoise)
	for i := range n {
		s.MeanFinalNoise += s.WithNoise[i].FinalValid / float64(n)
		s.MeanFinalNoNoise += s.WithoutNoise[i].FinalValid / float64(n)
		if s.WithNoise[i].FinalValid < s.WithoutNoise[i].FinalValid {
			s.NoiseWins++
		}
	}
}

// CompareStudentTeacher runs the experiment of c with c.Noise and without
// noise for each seed, in turn. after, when not nil, is called with the
// summary so far after each seed (so that long runs can save partial
// results); an error from it stops the comparison. progress, when not nil,
// receives every evaluation.
func CompareStudentTeacher(c StudentTeacherConfig, seeds []uint64, after func(*StudentTeacherSummary) error,
	progress func(seed uint64, noise bool, epoch int, valid float64)) (*StudentTeacherSummary, error) {
	if c.Noise == nil {
		return nil, fmt.Errorf("mmd: student-teacher comparison needs a noise schedule: %w", mmd.ErrParam)
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("mmd: student-teacher comparison needs at least one seed: %w", mmd.ErrParam)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	s := &StudentTeacherSummary{Experiment: "student-teacher", Config: c, Noise: c.Noise.String(),
		Seeds: seeds, Machine: ThisMachine()}
	for _, seed := range seeds {
		for _, noisy := range []bool{true, false} {
			cfg := c
			cfg.Seed = seed
			if !noisy {
				cfg.Noise = nil
			}
			var pf func(int, float64)
			if progress != nil {
				pf = func(e int, v float64) { progress(seed, noisy, e, v) }
			}
			run, err := RunStudentTeacher(cfg, pf)
			if err != nil {
				return nil, err
			}
			if noisy {
				s.WithNoise = append(s.WithNoise, run)
			} else {
				s.WithoutNoise = append(s.WithoutNoise, run)
			}
		}
		s.update()
		s.Complete = len(s.WithoutNoise) == len(seeds)
		s.WallSeconds = time.Since(start).Seconds()
		if after != nil {
			if err := after(s); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}
