package train

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// loop trains step by step until cfg.Steps or until ctx is cancelled: compute the loss and its gradient, stop on a
// non-finite value, take the Adam and EMA steps, log, and write the sample grids and checkpoints that are due.
func (t *trainer) loop(ctx context.Context, res Result) (Result, error) {
	c := &t.cfg
	t.rep = newReporter(t.opt.Log, t.opt.Terminal, t.st.step, c.Steps, c.Run.LogEvery)
	defer t.rep.finish()
	if t.st.step == 0 {
		t.logf("training %s on %s (%d images %v), preset %s: %d parameters, batch %d%s, %d steps, %s, BLAS %s",
			t.opt.Out, c.Dataset, t.ds.Len(), t.ds.Shape(), c.Preset, t.st.params.Count(), c.Batch,
			describeReplicas(t.step.Replicas()), c.Steps, c.describeLR(), model.BLAS())
	}
	t.lastTime = time.Now()
	start, startStep := time.Now(), t.st.step
	grads := t.step.Grads()
	for t.st.step < c.Steps {
		if err := ctx.Err(); err != nil {
			return t.interrupt(res)
		}
		stats, err := t.compute()
		if err != nil {
			return res, fmt.Errorf("train: step %d: %w", t.st.step+1, err)
		}
		pgn, err := t.checkFinite(stats, grads)
		if err != nil {
			t.metrics.add(t.record(t.st.step+1, stats, pgn, start)) // the step that diverged
			t.metrics.flush()
			return res, err
		}
		t.st.adam.Config.LR = c.LRAt(t.st.step + 1)
		if err := t.st.adam.Update(t.st.params, grads); err != nil {
			return res, fmt.Errorf("train: %w", err)
		}
		if name := nonFinite(t.st.params); name != "" {
			return res, fmt.Errorf("%w at step %d: parameter %s is not finite after the Adam update; %s",
				ErrDiverged, t.st.step+1, name, t.divergenceAdvice("a lower -lr"))
		}
		if err := t.st.ema.Update(t.st.params); err != nil {
			return res, fmt.Errorf("train: %w", err)
		}
		t.st.step++
		res.Step, res.Last = t.st.step, stats
		if err := t.metrics.add(t.record(t.st.step, stats, pgn, start)); err != nil {
			return res, err
		}
		t.checkHealth(t.st.step, stats.Loss, pgn)
		t.rep.step(t.st.step, stats)
		if t.opt.AfterStep != nil {
			t.opt.AfterStep(t.st.step, stats)
		}
		if c.Sample.Every > 0 && t.st.step%c.Sample.Every == 0 {
			t.preview() // optional: a failure is recorded, never a reason to stop
		}
		due := (c.Run.CkptEvery > 0 && t.st.step%c.Run.CkptEvery == 0) ||
			(c.Run.CkptInterval > 0 && time.Since(t.lastTime) >= time.Duration(c.Run.CkptInterval))
		if due && t.st.step < c.Steps {
			if err := t.save(); err != nil {
				return res, err
			}
			t.criticDiagnostics() // optional, after the checkpoint is safe
		}
	}
	if el := time.Since(start).Seconds(); el > 0 && t.st.step > startStep {
		res.StepsPerSec = float64(t.st.step-startStep) / el
	}
	return t.finish(res)
}

// finish writes the last checkpoint (unless the last step has one) and says where the run ended and which sample
// grid scored best.
func (t *trainer) finish(res Result) (Result, error) {
	if t.lastSaved != t.st.step {
		if err := t.save(); err != nil {
			return res, err
		}
		t.criticDiagnostics()
	}
	res.Checkpoint = t.lastCkpt
	t.rep.finish()
	t.logf("done: %d steps; last checkpoint %s", t.st.step, t.lastCkpt)
	if scores, err := ReadScores(t.opt.Out); err == nil && len(scores) > 0 {
		best := slices.MinFunc(scores, func(a, b SampleScore) int { return cmp.Compare(a.MMD2, b.MMD2) })
		t.logf("best sample score %.4g at step %d (samples/%s; noise %.4g): a checkpoint near it samples best",
			best.MMD2, best.Step, best.Grid, best.Noise)
	}
	return res, nil
}

// compute draws one step's levels, batches, noise and penalty points (in this order, from the run's random
// streams, so that a resumed run draws what an uninterrupted one would) and computes the loss and its gradient.
// With -groups G > 1, G levels are drawn first and the rows of group g of the noisy batch are noised at level g.
func (t *trainer) compute() (model.Stats, error) {
	c := &t.cfg
	for g := range t.levels {
		t.levels[g] = t.sched.SampleT(t.tdist, t.rng)
	}
	if c.Loss.MMD == model.MMDPaired {
		return t.computePaired()
	}
	data.Batch(t.ds, t.st.sampler, t.y, c.Batch)
	data.Batch(t.ds, t.st.sampler, t.x0, c.Batch)
	rows := len(t.xt) / len(t.levels) // values per group
	for g, level := range t.levels {
		if err := t.sched.Noise(t.xt[g*rows:(g+1)*rows], t.x0[g*rows:(g+1)*rows], level, t.rng); err != nil {
			return model.Stats{}, err
		}
	}
	if rho := c.RefRatio; rho > 0 {
		// The reference batch: the clean images noised to rho t_g, group by group (fresh noise).
		for g, level := range t.levels {
			y := t.y[g*rows : (g+1)*rows]
			if err := t.sched.Noise(y, y, c.RefLevel(level), t.rng); err != nil {
				return model.Stats{}, err
			}
		}
	}
	return t.runStep()
}

// runStep draws the penalty points (interp) and runs the training step on the batches.
func (t *trainer) runStep() (model.Stats, error) {
	if t.z != nil {
		t.interpolate()
	}
	if t.weights != nil {
		for g, level := range t.levels {
			t.weights[g] = t.weightAt(level)
		}
		if err := t.step.SetLevelWeights(t.weights); err != nil {
			return model.Stats{}, err
		}
	}
	switch {
	case len(t.levels) > 1:
		return t.step.RunLevels(t.xt, t.y, t.z, t.levels)
	case t.z != nil:
		return t.step.RunAt(t.xt, t.y, t.z, t.levels[0])
	}
	return t.step.Run(t.xt, t.y, t.levels[0])
}

// computePaired is compute for the paired estimator (-mmd paired): one clean batch x_0 and, per group, one noise
// draw eps; the noisy batch is alpha_t x_0 + beta_t eps and row i of the reference batch is the same image with the
// same noise at the reference level rho t (the clean image itself when rho = 0), so the two batches differ only by
// the step from t to rho t along each image's own path.
func (t *trainer) computePaired() (model.Stats, error) {
	c := &t.cfg
	data.Batch(t.ds, t.st.sampler, t.x0, c.Batch)
	rows := len(t.xt) / len(t.levels)
	diffusion.Normal(t.eps, t.rng)
	for g, level := range t.levels {
		r := g * rows
		x0, eps := t.x0[r:r+rows], t.eps[r:r+rows]
		if err := t.sched.Forward(t.xt[r:r+rows], x0, eps, level); err != nil {
			return model.Stats{}, err
		}
		if c.RefRatio == 0 {
			copy(t.y[r:r+rows], x0)
		} else if err := t.sched.Forward(t.y[r:r+rows], x0, eps, c.RefLevel(level)); err != nil {
			return model.Stats{}, err
		}
	}
	return t.runStep()
}

// interpolate draws the penalty points z_i = u_i x_t^i + (1 - u_i) y^i, u_i ~ U[0, 1].
func (t *trainer) interpolate() {
	size := t.cfg.Model.InputSize()
	for i := 0; i < t.cfg.Batch; i++ {
		u := float32(t.rng.Float64())
		xt, y, z := t.xt[i*size:(i+1)*size], t.y[i*size:(i+1)*size], t.z[i*size:(i+1)*size]
		for j := range z {
			z[j] = u*xt[j] + (1-u)*y[j]
		}
	}
}

// record is the metrics line of a step.
func (t *trainer) record(step int64, st model.Stats, pgn float64, start time.Time) Record {
	now := time.Now()
	r := Record{Step: step, Time: float64(now.UnixNano()) / 1e9, Elapsed: now.Sub(start).Seconds(), T: t.levels[0],
		Loss: st.Loss, MMD2: st.MMD2, L2: st.L2, GradPenalty: st.GradPenalty, GradNorm: st.GradNorm,
		ParamGradNorm: pgn, LR: t.cfg.LRAt(step)}
	if len(t.levels) > 1 {
		r.Levels = slices.Clone(t.levels)
	}
	return r
}
