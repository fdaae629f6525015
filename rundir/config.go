package rundir

import (
	"encoding/json"
	"fmt"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// TrainConfig is the part of a run's training configuration (train.Config, stored as config.json's config and in
// every checkpoint's MetaTrainConfig) that a reader of the run needs: what data the model learned, with which
// preprocessing, the model itself and the noise path. Every field has train.Config's name, type and JSON key (a
// test in package train checks it); the other settings of a checkpoint are ignored when it is decoded into this.
type TrainConfig struct {
	Dataset    string `json:"dataset"`     // cifar10, celeba64, mnist or folder
	Data       string `json:"data"`        // dataset location
	DataCache  string `json:"data_cache"`  // preprocessing cache folder ("" = next to the data)
	DataLimit  int    `json:"data_limit"`  // the first N images (0 = all)
	MNISTPad32 bool   `json:"mnist_pad32"` // mnist: 28x28 padded to 32x32
	CelebACrop int    `json:"celeba_crop"` // celeba64: centre crop before resizing to 64
	FolderSize int    `json:"folder_size"` // folder: image side

	Preset string             `json:"preset"`
	Model  model.Config       `json:"model"`
	Sched  diffusion.Schedule `json:"schedule"`
	// RefRatio rho: the critic at level t separates P_t from the data noised to rho t (0: the clean data).
	RefRatio float64 `json:"ref_ratio,omitempty"`
	Seed     uint64  `json:"seed"`
	// Loss is the critic's loss (the sampler's defaults depend on its gradient penalty).
	Loss model.LossConfig `json:"loss"`

	Fingerprint *Fingerprint `json:"data_fingerprint,omitempty"`
}

// Fingerprint identifies a dataset's contents, so a run can resume from a moved copy but not from other data.
type Fingerprint struct {
	Count int    `json:"count"`
	Shape string `json:"shape"`
	Hash  string `json:"fnv64a"`
}

// DecodeTrainConfig decodes the training configuration recorded in a checkpoint (MetaTrainConfig) into into: a
// *TrainConfig, or the trainer's full configuration.
func DecodeTrainConfig(f *checkpoints.File, into any) error {
	js, ok := f.Meta(MetaTrainConfig)
	if !ok {
		return fmt.Errorf("rundir: %s has no %s metadata (not a dmmd training checkpoint?)", f.Path(), MetaTrainConfig)
	}
	if err := json.Unmarshal([]byte(js), into); err != nil {
		return fmt.Errorf("rundir: %s: decoding %s: %w", f.Path(), MetaTrainConfig, err)
	}
	return nil
}

// ReadTrainConfig returns what a reader needs of the training configuration recorded in a checkpoint.
func ReadTrainConfig(f *checkpoints.File) (*TrainConfig, error) {
	var c TrainConfig
	if err := DecodeTrainConfig(f, &c); err != nil {
		return nil, err
	}
	return &c, nil
}
