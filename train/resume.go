package train

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/rundir"
)

// resolved is what a run directory holds and the configuration a run in it continues with.
type resolved struct {
	cfg       Config
	loaded    *checkpoints.Loaded // the checkpoint to resume from; nil for a fresh or restarted run
	recorded  bool                // cfg comes from the directory (config.json or a checkpoint), not from flags alone
	restarted bool                // config.json but no checkpoint yet: the same run again from step 0
	messages  []string            // what to tell the user
}

// resolveRun decides how a run in run.Dir starts, from what the directory holds. config.json, written before the
// first step, is the run's configuration from then on:
//
//   - a checkpoint: resume from it with config.json's settings (the checkpoint's own when config.json is missing);
//     config.json and the checkpoint must agree on everything that fixes the model, the data and the random
//     streams;
//   - config.json but no checkpoint yet (a run killed before its first checkpoint): the same run from step 0, with
//     its recorded settings;
//   - neither: a fresh run from cfg, unless the directory holds other files of a run (a metrics log, sample grids),
//     whose settings are then unknown.
//
// In the first two cases only the settings in opt.Set override the recorded ones, and a change to a fixed
// setting is refused (ResumeDiff). A directory whose files disagree, or whose config.json cannot be read, is
// refused with an error naming the files; nothing in it is changed.
func resolveRun(run *checkpoints.Run, cfg Config, opt Options) (*resolved, error) {
	dir := run.Dir
	var recorded Config
	_, err := run.ReadConfig(&recorded)
	hasConfig := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("train: -out %s is not a consistent run: %w; nothing was changed: repair or remove %s, "+
			"or pick another -out", dir, err, rundir.ConfigName)
	}
	r := &resolved{}
	var loaded *checkpoints.Loaded
	if opt.ResumeFrom != 0 {
		if loaded, err = chosenCheckpoint(run, opt.ResumeFrom); err != nil {
			return nil, err
		}
		r.messages = append(r.messages, resumeFromNote(run, opt.ResumeFrom))
	} else if loaded, err = run.Latest(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	r.loaded = loaded
	var base Config
	switch {
	case loaded != nil:
		saved, err := ConfigFromCheckpoint(loaded.File)
		if err != nil {
			return nil, err
		}
		base = *saved
		if hasConfig {
			if err := agree(&recorded, saved); err != nil {
				return nil, fmt.Errorf("train: -out %s is not a consistent run: %s and %s disagree: %w; nothing was "+
					"changed: pick another -out, or remove the file that is not this run's", dir,
					rundir.ConfigName, filepath.Base(loaded.Path), err)
			}
			base = recorded
			base.Model = saved.Model
		} else {
			r.messages = append(r.messages, fmt.Sprintf("note: %s has no %s; using the settings recorded in %s",
				dir, rundir.ConfigName, filepath.Base(loaded.Path)))
		}
		if loaded.Warning != "" {
			r.messages = append(r.messages, "warning: "+loaded.Warning)
		}
	case hasConfig:
		base = recorded
		r.restarted = true
	default:
		if left := rundir.Leftovers(dir); len(left) > 0 {
			return nil, fmt.Errorf("%w: -out %s holds files of a run (%s) but no %s and no checkpoint, so its "+
				"settings are unknown; nothing was changed: pick another -out, or remove them",
				ErrNotRunDir, dir, strings.Join(left, ", "), rundir.ConfigName)
		}
		r.cfg = cfg
		return r, nil
	}
	r.recorded = true
	merged := base
	if err := ApplyFlags(&merged, &cfg, opt.Set); err != nil {
		return nil, err
	}
	merged.Model = base.Model
	changes, err := ResumeDiff(&base, &merged)
	if err != nil {
		if r.restarted {
			err = fmt.Errorf("%w (the run has no checkpoint yet: to start it over with other settings, remove %s "+
				"or pick another -out)", err, dir)
		}
		return nil, err
	}
	var step int64
	if loaded != nil {
		step = loaded.Step
	}
	for i := range changes {
		changes[i].Step = step
	}
	merged.History = append(slices.Clone(base.History), changes...)
	r.cfg = merged
	msg := fmt.Sprintf("resuming %s from step %d (%s)", opt.Out, step, filepath.Base(pathOf(loaded)))
	if r.restarted {
		msg = fmt.Sprintf("restarting %s from step 0 with its recorded settings (%s: dataset %s, preset %s, "+
			"batch %d, seed %d): it stopped before its first checkpoint", opt.Out, rundir.ConfigName,
			base.Dataset, base.Preset, base.Batch, base.Seed)
	}
	for _, c := range changes {
		msg += fmt.Sprintf("; -%s %s -> %s", c.Flag, c.From, c.To)
	}
	r.messages = append(r.messages, msg)
	return r, nil
}

func pathOf(l *checkpoints.Loaded) string {
	if l == nil {
		return ""
	}
	return l.Path
}

// agree reports, as an error naming them, the settings that fix the model, the data or the random streams and
// differ between a run's config.json (a) and one of its checkpoints (b). Settings that may change on resume can
// differ (config.json is rewritten when a resume changes them) and are not compared.
func agree(a, b *Config) error {
	var diff []string
	for _, d := range settings.Diff(a, b) {
		if d.Fixed {
			diff = append(diff, fmt.Sprintf("-%s (%v in %s, %v in the checkpoint)", d.Name, d.From, rundir.ConfigName, d.To))
		}
	}
	if len(a.Model.Widths) > 0 && !reflect.DeepEqual(a.Model, b.Model) {
		diff = append(diff, "the model configuration")
	}
	if a.Fingerprint != nil && b.Fingerprint != nil && *a.Fingerprint != *b.Fingerprint {
		diff = append(diff, fmt.Sprintf("the data fingerprint (%s vs %s)", a.Fingerprint.Hash, b.Fingerprint.Hash))
	}
	if len(diff) > 0 {
		return errors.New(strings.Join(diff, ", "))
	}
	return nil
}

// chosenCheckpoint loads the checkpoint of step (-resume-from), verified like the latest one.
func chosenCheckpoint(run *checkpoints.Run, step int64) (*checkpoints.Loaded, error) {
	if step < 0 {
		return nil, fmt.Errorf("%w: -resume-from %d must be a checkpoint's step", ErrConfig, step)
	}
	c := checkpoints.Checkpoint{Step: step, Path: run.CheckpointPath(step)}
	f, err := c.Load()
	if err != nil {
		var have []string
		if cs, e := run.Checkpoints(); e == nil {
			for _, c := range cs {
				have = append(have, fmt.Sprint(c.Step))
			}
		}
		return nil, fmt.Errorf("train: -resume-from %d: %w (checkpoints of this run: steps %s)", step, err,
			strings.Join(have, ", "))
	}
	return &checkpoints.Loaded{Checkpoint: c, File: f}, nil
}

// resumeFromNote says what becomes of the checkpoints newer than the one chosen with -resume-from.
func resumeFromNote(run *checkpoints.Run, step int64) string {
	var newer []string
	if cs, err := run.Checkpoints(); err == nil {
		for _, c := range cs {
			if c.Step > step {
				newer = append(newer, filepath.Base(c.Path))
			}
		}
	}
	msg := fmt.Sprintf("note: resuming from step %d as asked (-resume-from)", step)
	if len(newer) > 0 {
		msg += fmt.Sprintf("; the newer %s stay as they are until this run replaces them at their steps",
			strings.Join(newer, ", "))
	}
	return msg
}
