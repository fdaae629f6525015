package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
	"github.com/dmmd/dmmd/rundir"
)

// Config is the fully resolved configuration of a training run. It is stored in the run directory's config.json
// and in every checkpoint, and a resumed run is checked against it.
type Config struct {
	// Data.
	Dataset    string `json:"dataset"`     // cifar10, celeba64, mnist or folder
	Data       string `json:"data"`        // dataset location
	DataCache  string `json:"data_cache"`  // preprocessing cache folder ("" = next to the data)
	DataLimit  int    `json:"data_limit"`  // use the first N images (0 = all)
	MNISTPad32 bool   `json:"mnist_pad32"` // mnist: pad 28x28 to 32x32
	CelebACrop int    `json:"celeba_crop"` // celeba64: centre crop 140 or 178 before resizing to 64
	FolderSize int    `json:"folder_size"` // folder: image side
	Flip       bool   `json:"flip"`        // random horizontal flips

	// Model and objective.
	Preset string `json:"preset"`
	// HeadHidden gives the network's head a hidden layer of this width (0 = the preset's linear head); see
	// model.Config.HeadHidden.
	HeadHidden int `json:"head_hidden,omitempty"`
	// ExtraLevels appends this many resolution levels of the preset's last width (each a stride-2 down block) to
	// the network, halving the last level's side each time (4x4 -> 2x2 -> 1x1 for the small preset at 32x32).
	ExtraLevels int                `json:"extra_levels,omitempty"`
	Model       model.Config       `json:"model"` // resolved from Preset and the data's shape
	Loss        model.LossConfig   `json:"loss"`
	Sched       diffusion.Schedule `json:"schedule"`
	TDist       diffusion.TDist    `json:"t_dist"` // uniform or quad
	// RefRatio rho sets the reference distribution each level's critic separates the noisy batch from: the data
	// forward-noised to level rho t (0, the default and the paper's objective, means the clean data). See
	// RefLevel.
	RefRatio float64 `json:"ref_ratio,omitempty"`
	// LevelWeight > 0 weights each group's loss by LevelWeightAt(t_g), capped at LevelWeight (0: every level
	// weight 1). Needs Loss.Groups >= 2.
	LevelWeight float64 `json:"level_weight,omitempty"`

	// Optimisation.
	Adam model.AdamConfig `json:"adam"`
	// LRCooldown > 0 decays the learning rate linearly over the last LRCooldown fraction of Steps, from Adam.LR to
	// LRFinal Adam.LR at the last step (the cooldown of a warmup-stable-decay schedule); 0 keeps Adam.LR throughout.
	// See LRAt.
	LRCooldown float64 `json:"lr_cooldown,omitempty"`
	LRFinal    float64 `json:"lr_final,omitempty"` // the last step's rate as a fraction of Adam.LR (LRCooldown > 0)
	GradClip   float64 `json:"grad_clip"`          // clip the parameter gradient's global norm to this (0 = off)
	EMA        float64 `json:"ema"`
	Batch      int     `json:"batch"` // images per side of each MMD estimate
	// Replicas splits each step's groups between this many graphs that run concurrently
	// (model.NewTrainStepReplicas; 0 or 1: one graph; with one level per step there is nothing to split and the
	// step runs as one graph). The loss and gradient are the same up to float rounding.
	Replicas int    `json:"replicas,omitempty"`
	Steps    int64  `json:"steps"` // total steps of the run
	Seed     uint64 `json:"seed"`

	Run    RunSettings    `json:"run"`
	Sample SampleSettings `json:"sample"`

	// Filled in by the trainer.
	Fingerprint *DataFingerprint `json:"data_fingerprint,omitempty"`
	History     []Change         `json:"history,omitempty"` // settings changed on resume
}

// RunSettings are the bookkeeping settings: they may change on resume.
type RunSettings struct {
	CkptEvery    int64    `json:"ckpt_every"`    // checkpoint every N steps (0 = only by time and at the end)
	CkptInterval Duration `json:"ckpt_interval"` // and at least this often in wall-clock time (0 = off)
	Keep         int      `json:"keep"`          // keep the newest N checkpoints
	LogEvery     int      `json:"log_every"`     // a plain progress line every N steps when stderr is not a terminal
	DiagN        int      `json:"-"`             // critic diagnostics per checkpoint on N images per set (0 = off; JSON: run_json.go)
}

// SampleSettings control the sample grids written during training.
type SampleSettings struct {
	Every     int64 `json:"every"`          // write samples/step-<step>.png every N steps (0 = off)
	Particles int   `json:"particles"`      // particles in the grid
	Refs      int   `json:"refs,omitempty"` // score each grid against this many data images (0 = no score)
}

// DataFingerprint identifies a dataset's contents, so a run can resume from a moved copy but not from other data.
type DataFingerprint = rundir.Fingerprint

// Change records a setting changed when a run was resumed.
type Change struct {
	Step int64  `json:"step"`
	Flag string `json:"flag"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Duration is a time.Duration that reads and writes as a string such as "10m".
type Duration time.Duration

// String is d as time.Duration writes it ("10m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("train: duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("train: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// ErrConfig reports an unusable configuration.
var ErrConfig = errors.New("train: invalid configuration")

// ErrRunInUse reports a run directory another trainer (this process or another) is training in.
var ErrRunInUse = errors.New("train: another trainer is running in this run directory")

// DefaultConfig returns the defaults for a dataset (the settings table, settings.go): the measured settings of
// ../shared/notes/dmmd.md (Adam 3e-4 with betas (0.5, 0.999), EMA 0.999, lambda_grad 10, lambda_l2 0.1,
// t = t_min + (1 - t_min) u^2, the penalty at interpolates) and the per-dataset preset, step count, flipping and
// sample-quality recipe (-groups, -ref-ratio: 8 and 0.8 for MNIST, README.md "Sample quality").
// The model is resolved later, once the data's shape is known.
func DefaultConfig(dataset string) (Config, error) {
	if !slices.Contains(datasets.Names, dataset) {
		return Config{}, fmt.Errorf("%w: unknown dataset %q (want one of %s)", ErrConfig, dataset, strings.Join(datasets.Names, ", "))
	}
	c := Config{Loss: model.DefaultLoss(), Adam: model.DefaultAdam(), Sched: diffusion.Default()} // what no flag sets
	settings.SetDefaults(&c, dataset)
	c.Dataset = dataset // the table's default is the flag's, cifar10
	return c, nil
}

// Validate checks every setting that does not need the data.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if !slices.Contains(datasets.Names, c.Dataset) {
		return bad("unknown dataset %q (want one of %s)", c.Dataset, strings.Join(datasets.Names, ", "))
	}
	if _, err := model.Preset(c.Preset, 32, 3); err != nil {
		return fmt.Errorf("%w: -preset: %w", ErrConfig, err)
	}
	if _, err := c.TDist.MarshalText(); err != nil {
		return bad("-tdist: %v", err)
	}
	switch {
	case c.Batch < 2 || c.Batch > 1<<16:
		return bad("-batch %d outside [2, 65536] (the unbiased MMD needs two images per side)", c.Batch)
	case !(c.RefRatio >= 0 && c.RefRatio < 1):
		return bad("-ref-ratio %v must lie in [0, 1)", c.RefRatio)
	case c.Loss.Groups > 1 && (c.Batch%c.Loss.Groups != 0 || c.Batch/c.Loss.Groups < 2):
		return bad("-batch %d does not split into -groups %d of at least 2 images each (give a -groups that "+
			"divides -batch, or -groups 1 for one level per step)", c.Batch, c.Loss.Groups)
	case !(c.LevelWeight == 0 || c.LevelWeight >= 1) || math.IsInf(c.LevelWeight, 0):
		return bad("-level-weight %v: give 0 (off) or a cap >= 1", c.LevelWeight)
	case c.LevelWeight > 0 && c.Loss.Groups < 2:
		return bad("-level-weight needs -groups 2 or more (one level per group), got %d", c.Loss.Groups)
	case c.Replicas < 0 || c.Replicas > 64:
		return bad("-replicas %d outside [0, 64] (0 or 1 = one graph)", c.Replicas)
	case c.Replicas > 1 && c.Loss.Groups >= 2 && c.Loss.Groups%c.Replicas != 0:
		return bad("-replicas %d does not divide -groups %d (each replica computes whole groups of the batch)",
			c.Replicas, c.Loss.Groups)
	case c.Replicas > 1 && c.LevelWeight > 0 && c.Loss.Groups/c.Replicas < 2:
		return bad("-level-weight needs at least 2 groups per replica; -groups %d, -replicas %d", c.Loss.Groups, c.Replicas)
	case c.Steps < 1:
		return bad("-steps %d must be positive", c.Steps)
	case c.HeadHidden < 0 || c.HeadHidden > 65536:
		return bad("-head-hidden %d outside [0, 65536] (0 = a linear head)", c.HeadHidden)
	case c.ExtraLevels < 0 || c.ExtraLevels > 8:
		return bad("-extra-levels %d outside [0, 8]", c.ExtraLevels)
	case c.DataLimit < 0:
		return bad("-data-limit %d must be >= 0", c.DataLimit)
	case c.DataLimit > 0 && c.DataLimit < 2*c.Batch:
		return bad("-data-limit %d is smaller than two batches (%d)", c.DataLimit, 2*c.Batch)
	case c.CelebACrop != 140 && c.CelebACrop != 178:
		return bad("-celeba-crop %d (want 140 or 178)", c.CelebACrop)
	case c.FolderSize < 8 || c.FolderSize > 1024:
		return bad("-folder-size %d outside [8, 1024]", c.FolderSize)
	case !(c.GradClip >= 0) || math.IsInf(c.GradClip, 0):
		return bad("-grad-clip %v must be finite and >= 0", c.GradClip)
	case !(c.LRCooldown >= 0 && c.LRCooldown <= 1):
		return bad("-lr-cooldown %v must lie in [0, 1] (a fraction of -steps; 0 = a constant rate)", c.LRCooldown)
	case !(c.LRFinal >= 0 && c.LRFinal <= 1):
		return bad("-lr-final %v must lie in [0, 1] (a fraction of -lr)", c.LRFinal)
	case !(c.EMA >= 0 && c.EMA < 1):
		return bad("-ema %v must lie in [0, 1)", c.EMA)
	case c.Run.CkptEvery < 0:
		return bad("-ckpt-every %d must be >= 0", c.Run.CkptEvery)
	case c.Run.CkptInterval < 0:
		return bad("-ckpt-interval %v must be >= 0", time.Duration(c.Run.CkptInterval))
	case c.Run.Keep < 1:
		return bad("-keep %d must be >= 1", c.Run.Keep)
	case c.Run.LogEvery < 1:
		return bad("-log-every %d must be >= 1", c.Run.LogEvery)
	case c.Run.DiagN < 0 || c.Run.DiagN == 1:
		return bad("-diag-n %d: give 0 (off) or at least 2 images", c.Run.DiagN)
	case c.Sample.Every < 0:
		return bad("-sample-every %d must be >= 0", c.Sample.Every)
	case c.Sample.Particles < 2 || c.Sample.Particles > 4096:
		return bad("-sample-n %d outside [2, 4096]", c.Sample.Particles)
	case c.Sample.Refs < 0 || c.Sample.Refs == 1:
		return bad("-sample-refs %d: give 0 (no score) or at least 2 images", c.Sample.Refs)
	}
	if err := c.Sched.Validate(); err != nil {
		return bad("%v", err)
	}
	if err := c.Adam.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.Loss.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// ResumeDiff compares a run's saved configuration with the one asked for now. It returns an error naming every
// fixed setting that differs (the run cannot continue with it), and otherwise the list of harmless changes.
func ResumeDiff(saved, now *Config) ([]Change, error) {
	var refused []string
	var changes []Change
	for _, d := range settings.Diff(saved, now) {
		if d.Fixed {
			refused = append(refused, fmt.Sprintf("-%s (run has %v, asked for %v)", d.Name, d.From, d.To))
			continue
		}
		changes = append(changes, Change{Flag: d.Name, From: fmt.Sprint(d.From), To: fmt.Sprint(d.To)})
	}
	if !reflect.DeepEqual(saved.Model, now.Model) && len(refused) == 0 {
		refused = append(refused, "the model configuration (same preset, different data shape?)")
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		return nil, fmt.Errorf("train: cannot resume: %s would change the model, the data or the random streams; "+
			"start a new run with another -out, or drop these flags", strings.Join(refused, ", "))
	}
	return changes, nil
}

// ApplyFlags copies the settings named in set (flag names, as in -h) from src into dst: how a resumed run takes
// the saved configuration and overrides only what the user asked for.
func ApplyFlags(dst, src *Config, set map[string]bool) error {
	if err := settings.Copy(dst, src, set); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// RefLevel is the level s = RefRatio t of the reference distribution the critic at level t was trained against
// (0: clean data). With rho > 0 the critic separates P_{rho t} from P_t, two nearby points of the forward path, so
// its witness gradient points along the path (toward less noise and more signal) rather than straight at the
// clean data; the sampler's mean embeddings m_P are then taken on data noised to rho t_k.
func (c *Config) RefLevel(t float64) float64 { return c.RefRatio * t }

// LevelWeightAt is the loss weight of level t with -level-weight W > 0: min(d_max / d(t), W), where
// d(t) = Sched.PairDistance(t, RefLevel(t)) is the mean squared distance per value between a noisy point and its
// reference for data of unit mean square, and d_max its largest value over [TMin, 1]. The critic's loss at level t
// (MMD^2 and both penalties at their optimum) scales like d(t): with the zero-centred penalty the witness
// gradient is the mean step x_ref - x_t over 2 lambda, and MMD^2 its squared length (docs/quality.md), so
// without weights the levels with the shortest steps (t near TMin, and near 1 for rho > 0) hardly train; 1/d(t)
// evens them out, as DDPM's epsilon loss does for denoising (Ho et al. 2020; Song et al. 2021's lambda(t)).
// Returns 1 with -level-weight 0. LevelWeightFunc computes d_max once.
func (c *Config) LevelWeightAt(t float64) float64 { return c.LevelWeightFunc()(t) }

// LevelWeightFunc returns LevelWeightAt as a function, with d_max computed once.
func (c *Config) LevelWeightFunc() func(t float64) float64 {
	if c.LevelWeight == 0 {
		return func(float64) float64 { return 1 }
	}
	dmax, sched, w := c.maxPairDistance(), c.Sched, c.LevelWeight
	rl := c.RefLevel
	return func(t float64) float64 { return min(dmax/sched.PairDistance(t, rl(t)), w) }
}

// maxPairDistance is the largest PairDistance over 2,001 levels evenly spread over [TMin, 1].
func (c *Config) maxPairDistance() float64 {
	d := 0.0
	for i := 0; i <= 2000; i++ {
		t := c.Sched.TMin + (1-c.Sched.TMin)*float64(i)/2000
		d = max(d, c.Sched.PairDistance(t, c.RefLevel(t)))
	}
	return d
}

// LRAt is the learning rate of the Adam update that makes step s (1 to Steps): Adam.LR until the cooldown, then
// linearly down to LRFinal Adam.LR at step Steps. The cooldown covers the last n = round(LRCooldown Steps) steps
// (none when n = 0): step Steps - n + k, k = 1..n, has rate Adam.LR (1 - (1 - LRFinal) k / n). A run resumed with
// a larger -steps moves its cooldown to the new end, so a run that had cooled down trains at Adam.LR again.
//
// On MNIST at batch 32 a rate of 3e-4 lowered to 1e-4 for the last eighth of 16,000 steps gained about 5 fd_cls
// with the small preset, and the same cooldown over the last eighth of 24,000 steps of the narrow preset gained
// nothing; with MNIST's larger rate since (1.2e-3), the last quarter down to a tenth scored 28.1 at 24,000 steps
// against 47.5 without it (seed 0; docs/quality.md), so MNIST cools down by default. The schedule's shape follows Hagele et al. 2024, "Scaling Laws and Compute-Optimal Training
// Beyond Fixed Training Durations" (a constant rate, then a short linear cooldown).
func (c *Config) LRAt(s int64) float64 {
	n := c.cooldownSteps()
	start := c.Steps - n
	if n <= 0 || s <= start {
		return c.Adam.LR
	}
	k := min(s-start, n)
	return c.Adam.LR * (1 - (1-c.LRFinal)*float64(k)/float64(n))
}

// cooldownSteps is the number of steps at the end of the run that cool down (LRAt): round(LRCooldown Steps).
func (c *Config) cooldownSteps() int64 { return int64(math.Round(c.LRCooldown * float64(c.Steps))) }

// effectiveReplicas is the number of graphs a step runs as: Replicas, or 1 with one level per step (nothing to
// split) or Replicas 0.
func (c *Config) effectiveReplicas() int {
	if c.Loss.Groups < 2 {
		return 1
	}
	return max(1, c.Replicas)
}

// describeReplicas is how the first log line says that each step runs as r graphs side by side (nothing for one).
func describeReplicas(r int) string {
	if r <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%d replicas side by side)", r)
}

// describeLR says the learning-rate schedule in words for the trainer's first line, e.g. "lr 0.0012 (Adam beta1
// 0.9), falling to 0.00012 over the last 6000 steps".
func (c *Config) describeLR() string {
	d := fmt.Sprintf("lr %g (Adam beta1 %g)", c.Adam.LR, c.Adam.Beta1)
	if n := c.cooldownSteps(); n > 0 {
		d += fmt.Sprintf(", falling to %.3g over the last %d steps", c.LRAt(c.Steps), n)
	}
	return d
}

// RefLevelFunc is RefLevel as a DiagOptions.RefLevel: nil when the reference is the clean data.
func (c *Config) RefLevelFunc() func(t float64) float64 {
	if c.RefRatio == 0 {
		return nil
	}
	return c.RefLevel
}
