package model

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/dmmd/dmmd/model/internal/parallel"
)

// Replicated training steps. Every term of the loss is a mean over groups (and, within a group, over its rows), so
// the loss of a batch of G groups is the mean of the losses of R disjoint slices of G/R groups each, and its
// gradient the mean of theirs. NewTrainStepReplicas compiles one graph per slice, all reading the same Params,
// and runs them concurrently: each graph's ops then use GOMAXPROCS/R workers. On a small network at a small batch
// most of a step is short, memory-bound kernels that split poorly between threads; whole graphs side by side
// keep every core busy (BenchmarkTrainStepReplicas; README, "Speed").

// NewTrainStepReplicas is NewTrainStep with the batch's G = LossConfig.Groups groups split between r graphs (r
// >= 1, r dividing G, each graph G/r groups of B/G rows) that run concurrently. The loss, the Stats and the
// gradient are those of NewTrainStep (the means over the r graphs' values, which are means over their groups),
// equal up to float rounding: the sums run in another order, so the last bits differ from one graph's, and
// runs with the same r are reproducible bit for bit. r = 1 is NewTrainStep. Level weights (LossConfig.LevelWeights)
// need at least 2 groups per graph.
func NewTrainStepReplicas(p *Params, batch int, lc LossConfig, r int) (*TrainStep, error) {
	if r < 1 {
		return nil, fmt.Errorf("%w: %d replicas; need at least 1", ErrConfig, r)
	}
	if r == 1 {
		return NewTrainStep(p, batch, lc)
	}
	if err := lc.Validate(); err != nil {
		return nil, err
	}
	groups := lc.groups()
	if groups%r != 0 {
		return nil, fmt.Errorf("%w: %d groups do not split between %d replicas (the loss is a mean over groups: "+
			"each replica needs a whole number of them)", ErrConfig, groups, r)
	}
	if batch%groups != 0 || batch/groups < 2 {
		return nil, fmt.Errorf("%w: a batch of %d does not split into %d groups of at least 2", ErrConfig, batch, groups)
	}
	part := lc
	part.Groups = groups / r
	s := &TrainStep{compiled: &compiled{cfg: p.cfg, batch: batch, levels: groups}, lc: lc, groups: groups}
	var err error
	if s.grads, err = NewParams(p.cfg); err != nil {
		return nil, err
	}
	for range r {
		q, err := NewTrainStep(p, batch/r, part)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("model: replica of %d groups: %w", part.Groups, err)
		}
		s.parts = append(s.parts, q)
	}
	return s, nil
}

// Replicas is the number of graphs the step runs concurrently (1 unless made by NewTrainStepReplicas).
func (s *TrainStep) Replicas() int { return max(1, len(s.parts)) }

// runParts runs replica i on rows [i*B/r, (i+1)*B/r) of xt, y and z (z may be nil) at levels ts[i*G/r:(i+1)*G/r],
// concurrently, then leaves the mean of their gradients in s.grads and returns the mean of their Stats.
func (s *TrainStep) runParts(xt, y, z []float32, ts []float64) (Stats, error) {
	r := len(s.parts)
	n := len(xt) / r
	gp := s.groups / r
	stats := make([]Stats, r)
	errs := make([]error, r)
	// Each graph's kernels split their loops over GOMAXPROCS/r workers while the r graphs run.
	restore := parallel.SetWorkers(max(1, runtime.GOMAXPROCS(0)/r))
	var wg sync.WaitGroup
	for i, q := range s.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zi []float32
			if z != nil {
				zi = z[i*n : (i+1)*n]
			}
			stats[i], errs[i] = q.RunLevels(xt[i*n:(i+1)*n], y[i*n:(i+1)*n], zi, ts[i*gp:(i+1)*gp])
		}()
	}
	wg.Wait()
	restore()
	for i, err := range errs {
		if err != nil {
			return Stats{}, fmt.Errorf("model: replica %d: %w", i, err)
		}
	}
	meanGrads(s.grads, s.parts)
	var st Stats
	for _, v := range stats {
		st.Loss += v.Loss
		st.MMD2 += v.MMD2
		st.L2 += v.L2
		st.GradPenalty += v.GradPenalty
		st.GradNorm += v.GradNorm
	}
	inv := 1 / float64(r)
	st.Loss, st.MMD2, st.L2, st.GradPenalty, st.GradNorm = st.Loss*inv, st.MMD2*inv, st.L2*inv, st.GradPenalty*inv, st.GradNorm*inv
	return st, nil
}

// meanGrads sets dst to the mean of the parts' gradients, summed in replica order.
func meanGrads(dst *Params, parts []*TrainStep) {
	for i, t := range dst.tensors {
		switch d := t.Data().(type) {
		case []float32:
			meanInto(d, parts, func(q *TrainStep) []float32 { return q.grads.tensors[i].Data().([]float32) })
		case []float64:
			meanInto(d, parts, func(q *TrainStep) []float64 { return q.grads.tensors[i].Data().([]float64) })
		}
	}
}

func meanInto[T float32 | float64](d []T, parts []*TrainStep, of func(*TrainStep) []T) {
	copy(d, of(parts[0]))
	for _, q := range parts[1:] {
		for j, v := range of(q) {
			d[j] += v
		}
	}
	inv := 1 / T(len(parts))
	for j := range d {
		d[j] *= inv
	}
}
