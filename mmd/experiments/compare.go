package experiments

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
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
	// Complete is false while runs are still to come; SeedsDone counts the
	// seeds whose two runs are done.
	Complete  bool `json:"complete"`
	SeedsDone int  `json:"seeds_done"`
	// WithNoise[i] and WithoutNoise[i] are the runs on Seeds[i].
	WithNoise    []*StudentTeacherRun `json:"with_noise"`
	WithoutNoise []*StudentTeacherRun `json:"without_noise"`
	// Mean final validation losses over the seeds done.
	MeanFinalNoise   float64 `json:"mean_final_valid_noise"`
	MeanFinalNoNoise float64 `json:"mean_final_valid_no_noise"`
	// NoiseWins counts seeds where noise injection ended lower.
	NoiseWins   int     `json:"noise_wins"`
	WallSeconds float64 `json:"wall_seconds"`
	Machine     Machine `json:"machine"`
}

// update recomputes the aggregates over the seeds whose two runs are done.
func (s *StudentTeacherSummary) update() {
	s.MeanFinalNoise, s.MeanFinalNoNoise, s.NoiseWins, s.SeedsDone = 0, 0, 0, 0
	for i := range min(len(s.WithNoise), len(s.WithoutNoise)) {
		a, b := s.WithNoise[i], s.WithoutNoise[i]
		if !a.Done || !b.Done {
			continue
		}
		s.SeedsDone++
		s.MeanFinalNoise += a.FinalValid
		s.MeanFinalNoNoise += b.FinalValid
		if a.FinalValid < b.FinalValid {
			s.NoiseWins++
		}
	}
	if s.SeedsDone > 0 {
		s.MeanFinalNoise /= float64(s.SeedsDone)
		s.MeanFinalNoNoise /= float64(s.SeedsDone)
	}
	s.Complete = s.SeedsDone == len(s.Seeds)
}

// CompareStudentTeacher runs the experiment of c with c.Noise and without
// noise for each seed in turn, the two runs of a seed concurrently (so that
// partial results compare like with like). progress, when not nil, is
// called with the summary so far and the run that changed after each
// evaluation and once more when a run is done, never concurrently, so that
// long comparisons can report and save partial results.
func CompareStudentTeacher(c StudentTeacherConfig, seeds []uint64,
	progress func(s *StudentTeacherSummary, current *StudentTeacherRun)) (*StudentTeacherSummary, error) {
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
	var mu sync.Mutex
	report := func(r *StudentTeacherRun) {
		s.WallSeconds = time.Since(start).Seconds()
		s.update()
		if progress != nil {
			progress(s, r)
		}
	}
	for _, seed := range seeds {
		noisy, plain := c, c
		noisy.Seed, plain.Seed, plain.Noise = seed, seed, nil
		a, b := newRun(noisy), newRun(plain)
		mu.Lock()
		s.WithNoise = append(s.WithNoise, a)
		s.WithoutNoise = append(s.WithoutNoise, b)
		mu.Unlock()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); runInto(noisy, a, &mu, report) }()
		go func() { defer wg.Done(); runInto(plain, b, &mu, report) }()
		wg.Wait()
	}
	return s, nil
}
