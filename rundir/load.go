package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/model"
)

// Opened is a checkpoint that a reader opened, read and verified.
type Opened struct {
	File *checkpoints.File
	Step int64 // the training step it was written at (0 for a file without one)
	// Warning is not empty when a run's latest pointer could not be used and another checkpoint was opened
	// instead (checkpoints.Run.Latest); show it to the user.
	Warning string
}

// Open opens what a reader names with path: a checkpoint file, or a run directory, whose latest checkpoint is
// opened (verified, falling back to the newest checkpoint that verifies). It changes nothing on disk. A path that
// does not exist, or a run directory without a checkpoint yet, gives an error wrapping fs.ErrNotExist.
func Open(path string) (*Opened, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	if fi.IsDir() {
		ld, err := (&checkpoints.Run{Dir: path}).Latest()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rundir: %s holds no checkpoint yet: %w", path, fs.ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("rundir: %w", err)
		}
		return &Opened{File: ld.File, Step: ld.Step, Warning: ld.Warning}, nil
	}
	file, err := checkpoints.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	o := &Opened{File: file}
	if v, ok := file.Meta(checkpoints.MetaStep); ok {
		if o.Step, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("rundir: %s: step metadata %q: %w", path, v, err)
		}
	}
	return o, nil
}

// LoadEMA returns the EMA (sampling) weights of a checkpoint, checked against its recorded model, and what a
// reader needs of its training configuration.
func LoadEMA(f *checkpoints.File) (*model.Params, *TrainConfig, error) { return load(f, EMA) }

// LoadTrained returns the trained (optimiser's, not averaged) weights of a checkpoint, checked like LoadEMA.
func LoadTrained(f *checkpoints.File) (*model.Params, *TrainConfig, error) { return load(f, Trained) }

func load(f *checkpoints.File, set Weights) (*model.Params, *TrainConfig, error) {
	cfg, err := ReadTrainConfig(f)
	if err != nil {
		return nil, nil, err
	}
	p, err := LoadWeights(f, set, cfg.Model)
	if err != nil {
		return nil, nil, err
	}
	return p, cfg, nil
}

// LoadWeights returns the parameter set set of a checkpoint of model m.
func LoadWeights(f *checkpoints.File, set Weights, m model.Config) (*model.Params, error) {
	p, err := model.NewParams(m)
	if err != nil {
		return nil, fmt.Errorf("rundir: %s: %w", f.Path(), err)
	}
	if err := ReadWeights(f, set, m.DType, p); err != nil {
		return nil, err
	}
	return p, nil
}
