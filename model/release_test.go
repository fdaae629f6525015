package model

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

// heapAfterGC returns the live heap in bytes once the garbage collector has settled. An object with a finalizer
// (Gorgonia's tape machine) needs two cycles and a run of the finalizer goroutine in between, so it collects a
// few times; it stops early once the heap is at most below.
func heapAfterGC(below uint64) uint64 {
	var m runtime.MemStats
	for range 10 {
		runtime.GC()
		runtime.ReadMemStats(&m)
		if m.HeapAlloc <= below {
			break
		}
		time.Sleep(5 * time.Millisecond) // let the finalizer goroutine run
	}
	return m.HeapAlloc
}

// TestGraphsAreReleased builds, runs and drops every kind of compiled graph in a loop, with and without Close,
// and checks that the heap after garbage collection stays flat. Before the read targets were boxed, each graph
// stayed for the life of the process (Gorgonia's tape machine has a finalizer, and its read instructions pointed
// back into the struct that owned the machine: a cycle Go never collects), so the heap grew by one graph per turn.
func TestGraphsAreReleased(t *testing.T) {
	cfg := tinyConfig(t, 16, 3, "flatten")
	cfg.DType = "float32"
	p, err := Init(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 8
	size, d := cfg.InputSize(), cfg.FeatureDim
	x := make([]float32, batch*size)
	for i := range x {
		x[i] = float32(i%7)/7 - 0.5
	}
	interp := DefaultLoss()
	interp.PenaltyAt = PenaltyAtInterp
	kinds := []struct {
		name  string
		build func() (func() error, func() error, error) // run, close
	}{
		{"Features", func() (func() error, func() error, error) {
			f, err := NewFeatures(p, batch)
			if err != nil {
				return nil, nil, err
			}
			out := make([]float32, batch*d)
			return func() error { return f.Run(x, 0.5, out) }, f.Close, nil
		}},
		{"Witness", func() (func() error, func() error, error) {
			w, err := NewWitness(p, batch)
			if err != nil {
				return nil, nil, err
			}
			out, dir := make([]float32, len(x)), make([]float32, d)
			dir[0] = 1
			return func() error { return w.Grad(x, 0.5, dir, out) }, w.Close, nil
		}},
		{"Critic", func() (func() error, func() error, error) {
			c, err := NewCritic(p, batch)
			if err != nil {
				return nil, nil, err
			}
			out := make([]float32, batch*d)
			return func() error { return c.Features(x, 0.5, out) }, c.Close, nil
		}},
		{"TrainStep", func() (func() error, func() error, error) {
			s, err := NewTrainStep(p, batch, DefaultLoss())
			if err != nil {
				return nil, nil, err
			}
			return func() error { _, err := s.Run(x, x, 0.5); return err }, s.Close, nil
		}},
		{"TrainStep interp", func() (func() error, func() error, error) {
			s, err := NewTrainStep(p, batch, interp)
			if err != nil {
				return nil, nil, err
			}
			return func() error { _, err := s.RunAt(x, x, x, 0.5); return err }, s.Close, nil
		}},
	}
	for _, k := range kinds {
		for _, closeIt := range []bool{true, false} {
			name := k.name + "/dropped"
			if closeIt {
				name = k.name + "/closed"
			}
			t.Run(name, func(t *testing.T) {
				cycle := func() {
					run, closeFn, err := k.build()
					if err != nil {
						t.Fatal(err)
					}
					if err := run(); err != nil {
						t.Fatal(err)
					}
					if closeIt {
						if err := closeFn(); err != nil {
							t.Fatal(err)
						}
					}
				}
				base := heapAfterGC(0)
				// The size of one live graph, for scale.
				run, closeFn, err := k.build()
				if err != nil {
					t.Fatal(err)
				}
				if err := run(); err != nil {
					t.Fatal(err)
				}
				live := heapAfterGC(0)
				one := live - min(base, live)
				if closeIt {
					if err := closeFn(); err != nil {
						t.Fatal(err)
					}
				}
				run, closeFn = nil, nil
				const turns = 6
				for range turns {
					cycle()
				}
				limit := base + one/2
				if after := heapAfterGC(limit); after > limit {
					t.Errorf("heap after %d build/run/drop turns: %.1f MiB, was %.1f MiB before (one graph holds %.1f MiB): "+
						"graphs are not released", turns, mib(after), mib(base), mib(one))
				}
			})
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestClosedGraphErrors checks that a graph used after Close returns an error instead of crashing, and that a
// second Close is harmless.
func TestClosedGraphErrors(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p, err := Init(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCritic(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewTrainStep(p, 2, DefaultLoss())
	if err != nil {
		t.Fatal(err)
	}
	for _, closer := range []interface{ Close() error }{c, c, s, s} {
		if err := closer.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	x := make([]float32, 2*cfg.InputSize())
	if err := c.Features(x, 0.5, make([]float32, 2*cfg.FeatureDim)); !errors.Is(err, errClosed) {
		t.Errorf("Features after Close: %v, want %v", err, errClosed)
	}
	if err := c.WitnessGrad(x, 0.5, make([]float32, cfg.FeatureDim), make([]float32, len(x))); !errors.Is(err, errClosed) {
		t.Errorf("WitnessGrad after Close: %v, want %v", err, errClosed)
	}
	if err := c.ExactWitnessGrad(x, 0.5, make([]float64, cfg.FeatureDim), make([]float32, len(x))); !errors.Is(err, errClosed) {
		t.Errorf("ExactWitnessGrad after Close: %v, want %v", err, errClosed)
	}
	if _, err := s.Run(x, x, 0.5); !errors.Is(err, errClosed) {
		t.Errorf("TrainStep.Run after Close: %v, want %v", err, errClosed)
	}
}
