package train

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/internal/setting"
	"github.com/dmmd/dmmd/model"
)

// settings is the one place a training setting is declared: its flag, its default (per dataset where it varies),
// its help, whether a resumed run may change it (setting.Fixed: it changes the model, the data or the random
// streams) and, through its field's type, how it is parsed. The flags and -h, the defaults (DefaultConfig), the
// per-dataset table of -h and README.md, the copy of the flags given (ApplyFlags) and the resume checks
// (ResumeDiff) all come from it; config.json is Config's JSON. The order is the order of -h's tables and of
// resume messages.
var settings = setting.Table[Config]{
	// Data.
	setting.Var("dataset", func(c *Config) *string { return &c.Dataset }, datasets.CIFAR10,
		"dataset: "+strings.Join(datasets.Names, ", "), setting.Fixed),
	setting.PerKey("data", func(c *Config) *string { return &c.Data }, datasets.DefaultPath,
		"dataset location (folder, tarball or zip); default per dataset, see below"),
	setting.Var("data-cache", func(c *Config) *string { return &c.DataCache }, "",
		"folder for preprocessing caches (celeba64, folder); default next to the data"),
	setting.Var("data-limit", func(c *Config) *int { return &c.DataLimit }, 0,
		"use only the first N images (0 = all)", setting.Fixed),
	setting.Var("mnist-pad32", func(c *Config) *bool { return &c.MNISTPad32 }, false,
		"mnist: pad 28x28 digits to 32x32", setting.Fixed),
	setting.Var("celeba-crop", func(c *Config) *int { return &c.CelebACrop }, 140,
		"celeba64: centre crop before resizing to 64x64: 140 (score_sde) or 178", setting.Fixed),
	setting.Var("folder-size", func(c *Config) *int { return &c.FolderSize }, 32,
		"folder: image side after centre crop and resize", setting.Fixed),
	setting.PerKey("flip", func(c *Config) *bool { return &c.Flip },
		byDataset(map[string]bool{datasets.CIFAR10: true, datasets.CelebA64: true, datasets.MNIST: false, datasets.Folder: false}),
		"random horizontal flips; default per dataset, see below", setting.Fixed),

	// Model and objective.
	// MNIST trains the narrow preset at batch 32 for 24,000 steps (issue 10, docs/quality.md, "Narrow and batch 32"):
	// at issue 10's 30 minutes on the 2-core machine, those steps scored fd_cls 39.9 / 38.7 (seeds 0 / 1) against
	// 45.3 / 43.3 for 14,000 steps of the small preset at batch 32 (which take longer) and 54.9 / 58.9 for 8,000 at
	// batch 64.
	setting.PerKey("preset", func(c *Config) *string { return &c.Preset },
		byDataset(map[string]string{datasets.CIFAR10: "small", datasets.CelebA64: "small", datasets.MNIST: "narrow", datasets.Folder: "small"}),
		"model size: "+strings.Join(model.Presets(), ", ")+"; default per dataset", setting.Fixed),
	// The head's hidden layer (issue 10): with the presets' linear head on flattened features, the witness is a sum
	// over the last level's positions of functions of each position's receptive field (docs/quality.md).
	setting.Var("head-hidden", func(c *Config) *int { return &c.HeadHidden }, 0,
		"width of a hidden layer in the network's head (linear, SiLU, linear), which lets the witness combine "+
			"distant parts of an image nonlinearly; 0 = the preset's linear head", setting.Fixed),
	// MNIST and CIFAR-10 go down to 1x1 (issue 10, docs/quality.md, "The witness as a sum of local functions"):
	// at 2,000 steps fd_cls 114 / 104 on MNIST (seeds 0 / 1; the 4x4 network 132 / 124) and 107 / 113 on CIFAR-10
	// (119 / 118); a hidden head layer instead (-head-hidden 512) gained 3-6, within the seed spread.
	setting.PerKey("extra-levels", func(c *Config) *int { return &c.ExtraLevels },
		byDataset(map[string]int{datasets.CIFAR10: 2, datasets.CelebA64: 0, datasets.MNIST: 2, datasets.Folder: 0}),
		"append N resolution levels of the preset's last width to the network (each a stride-2 down block: the "+
			"small preset's last 4x4 level becomes 2x2, then 1x1), so the features see the whole image; default "+
			"per dataset, see below", setting.Fixed),
	setting.PerKey("batch", func(c *Config) *int { return &c.Batch },
		byDataset(map[string]int{datasets.CIFAR10: 64, datasets.CelebA64: 64, datasets.MNIST: 32, datasets.Folder: 64}),
		"images per side of each MMD estimate (the step uses 2x this many); default per dataset, see below", setting.Fixed),
	setting.Var("seed", func(c *Config) *uint64 { return &c.Seed }, 0,
		"seed of the initialisation, the data order, the flips, the levels and the noise", setting.Fixed),
	setting.Var("tmin", func(c *Config) *float64 { return &c.Sched.TMin }, diffusion.Default().TMin,
		"smallest noise level t", setting.Fixed),
	setting.Var("beta-min", func(c *Config) *float64 { return &c.Sched.BetaMin }, diffusion.Default().BetaMin,
		"VP schedule beta(0)", setting.Fixed),
	setting.Var("beta-max", func(c *Config) *float64 { return &c.Sched.BetaMax }, diffusion.Default().BetaMax,
		"VP schedule beta(1)", setting.Fixed),
	setting.Var("tdist", func(c *Config) *diffusion.TDist { return &c.TDist }, diffusion.TQuad,
		"training level distribution: uniform, or quad (t = tmin + (1-tmin) u^2: more low-noise levels)", setting.Fixed),
	// The penalty at interpolates: with the penalty only at x_t the witness gradient is shaped only on the noisy
	// batch, and the sampler's particles, which travel between the two distributions, drift off it (measured: on
	// 16x16 blobs after 1,500 steps of the tiny preset, the exact flow's pixel-space MMD^2 to held-out data is 0.51
	// with x_t, 0.14 with interpolates, noise 0.57; the witness gradient at x_t points toward the clean image with
	// cosine 0.22 vs 0.66 at t = 1).
	setting.Var("penalty-at", func(c *Config) *string { return &c.Loss.PenaltyAt }, model.PenaltyAtInterp,
		"where the gradient penalty reads grad f: interp (z = u x_t + (1-u) y, u ~ U[0, 1], as WGAN-GP) or xt "+
			"(the noisy points, the seed's choice)",
		setting.Fixed, setting.OneOf(model.PenaltyAtXT, model.PenaltyAtInterp)),
	// The sample-quality recipe (README.md, "Sample quality"; issue 10): on MNIST, 8 levels per step and a critic
	// against the data noised to 0.8 t, sampled with the ddim update (cmd/sample's default for such a critic),
	// scored far better than the paper's objective at the same step budget; on CIFAR-10 the whole recipe (with
	// -mmd paired and -penalty zero) scored fd_cls 122 / 123 (seeds 0 / 1) at 1,000 steps against 246-261 for the
	// paper's objective and the recipe's other variants. CelebA and image folders keep the paper's objective until
	// they are measured the same way.
	setting.PerKey("ref-ratio", func(c *Config) *float64 { return &c.RefRatio },
		byDataset(map[string]float64{datasets.CIFAR10: 0.8, datasets.CelebA64: 0, datasets.MNIST: 0.8, datasets.Folder: 0}),
		"reference level ratio rho: the critic at level t separates P_t from the data noised to rho t "+
			"(0 = from the clean data, the paper's objective); default per dataset, see below", setting.Fixed),
	setting.Var("level-weight", func(c *Config) *float64 { return &c.LevelWeight }, 0,
		"weight each group's loss by its level: min(d_max/d(t), W) with W this value, d(t) the mean squared "+
			"distance between a noisy point and its reference (unit-variance data), which the level's loss scales "+
			"with, d_max its largest value (the analogue of DDPM's epsilon loss; docs/quality.md); needs -groups >= 2 "+
			"(0 = off)", setting.Fixed),
	setting.PerKey("groups", func(c *Config) *int { return &c.Loss.Groups },
		byDataset(map[string]int{datasets.CIFAR10: 8, datasets.CelebA64: 0, datasets.MNIST: 8, datasets.Folder: 0}),
		"levels per step: split each batch into G groups of consecutive images, each at its own level t_g "+
			"(0 or 1 = one level per step); -batch must be a multiple of G, with at least 2 images per group; "+
			"default per dataset, see below", setting.Fixed),

	// Optimisation and loss weights: these may change on resume.
	// MNIST's 32,000 steps took 25.3 minutes with every default extra on the quiet 2-core machine (issue 10: 30) with -replicas 2 (21 steps/s; 15 on
	// one graph, where 24,000 did).
	setting.PerKey("steps", func(c *Config) *int64 { return &c.Steps },
		byDataset(map[string]int64{datasets.CIFAR10: 200000, datasets.CelebA64: 200000, datasets.MNIST: 32000, datasets.Folder: 100000}),
		"total training steps; default per dataset, see below"),
	// MNIST's optimiser (issue 10, docs/quality.md, "The optimiser"): with the paired, zero-centred objective the
	// critic has a fixed target, not an adversary, and at issue 10's 30 minutes the number of updates limits it, so
	// a larger rate and the usual beta1 gain per update: fd_cls at 8,000 steps (narrow, batch 32, seed 0) 75.8 with
	// 3e-4 and beta1 0.5, 68.4 with beta1 0.9, 52.8 with 6e-4 and 0.9, 49.6 with 1.2e-3 and 0.9.
	setting.PerKey("lr", func(c *Config) *float64 { return &c.Adam.LR },
		byDataset(map[string]float64{datasets.CIFAR10: model.DefaultAdam().LR, datasets.CelebA64: model.DefaultAdam().LR,
			datasets.MNIST: 1.2e-3, datasets.Folder: model.DefaultAdam().LR}),
		"Adam learning rate; default per dataset, see below"),
	// MNIST's larger rate fluctuates from checkpoint to checkpoint (fd_cls 47.5 at 24,000 steps, 35.4 at 26,000,
	// seed 0); 1.2e-3 down to 1.2e-4 over the last quarter of its 24,000 steps scored 28.1 at 24,000 (resumed from
	// the same run's step 18,000; docs/quality.md, "The optimiser").
	setting.PerKey("lr-cooldown", func(c *Config) *float64 { return &c.LRCooldown },
		byDataset(map[string]float64{datasets.CIFAR10: 0, datasets.CelebA64: 0, datasets.MNIST: 0.25, datasets.Folder: 0}),
		"decay the learning rate linearly over this last fraction of -steps, to -lr-final times -lr at the last "+
			"step (a warmup-stable-decay cooldown; 0 = a constant rate; a resume with more -steps moves it to the new "+
			"end); default per dataset, see below"),
	setting.PerKey("lr-final", func(c *Config) *float64 { return &c.LRFinal },
		byDataset(map[string]float64{datasets.CIFAR10: 0, datasets.CelebA64: 0, datasets.MNIST: 0.1, datasets.Folder: 0}),
		"the learning rate at the last step as a fraction of -lr, with -lr-cooldown; default per dataset, see below"),
	setting.PerKey("beta1", func(c *Config) *float64 { return &c.Adam.Beta1 },
		byDataset(map[string]float64{datasets.CIFAR10: model.DefaultAdam().Beta1, datasets.CelebA64: model.DefaultAdam().Beta1,
			datasets.MNIST: 0.9, datasets.Folder: model.DefaultAdam().Beta1}),
		"Adam beta1 (0.5 as in GAN training; 0.9 the usual value); default per dataset, see below"),
	setting.Var("beta2", func(c *Config) *float64 { return &c.Adam.Beta2 }, model.DefaultAdam().Beta2, "Adam beta2"),
	// MNIST runs its step as 2 replicas (issue 13, README "Speed"): on the 2-core machine its small kernels split
	// poorly between 2 threads (one graph: 1.2x the 1-thread speed), two half-batch graphs side by side run
	// 21.2 steps/s of cmd/train against 15.0 (BenchmarkTrainerMNIST/narrow: 46 ms against 56 ms per step). On one
	// core replicas are slower (BenchmarkTrainStepReplicas: 72 ms against 62 ms at -cpu 1); the other datasets'
	// larger steps are unmeasured and keep one graph.
	setting.PerKey("replicas", func(c *Config) *int { return &c.Replicas },
		byDataset(map[string]int{datasets.CIFAR10: 0, datasets.CelebA64: 0, datasets.MNIST: 2, datasets.Folder: 0}),
		"run each step as this many graphs side by side, each on its share of -groups (must divide it) and of the "+
			"cores; the loss and gradient are the same up to float rounding (0 or 1 = one graph; one graph with one level per step); default per dataset, see below"),
	setting.Var("ema", func(c *Config) *float64 { return &c.EMA }, 0.999,
		"EMA decay of the sampling weights (warm-up min(decay, (1+n)/(10+n)))"),
	// MNIST clips at 0.5, about 3x the usual norm: with its larger learning rate (-lr) a clip at 2 let a cascade of
	// spikes (19, 138, then 22,173 within 10 steps) set the low-noise critic back thousands of steps (the cosine
	// of its step with the way to the clean image at t = 0.02 fell from 0.75 to 0.45); resumed from the checkpoint
	// before it with the clip at 0.5, no step's norm passed 1.5 and the cosine held 0.75 (docs/quality.md).
	setting.PerKey("grad-clip", func(c *Config) *float64 { return &c.GradClip },
		byDataset(map[string]float64{datasets.CIFAR10: 2, datasets.CelebA64: 0, datasets.MNIST: 0.5, datasets.Folder: 0}),
		"clip the parameter gradient's global L2 norm to this before Adam (0 = off; a rare spike of thousands of "+
			"times the usual norm sets training back thousands of steps without it: docs/quality.md; the usual norm "+
			"is 10-20 with -penalty gp, 0.15-0.3 with -penalty zero); default per dataset, see below"),
	setting.Var("lambda-grad", func(c *Config) *float64 { return &c.Loss.LambdaGrad }, model.DefaultLoss().LambdaGrad,
		"weight of the gradient penalty (see -penalty)"),
	// MNIST and CIFAR-10 use the zero-centred penalty (issue 10, docs/quality.md): on MNIST fd_cls 132 / 124 (ddim
	// eta 1) against 154 / 165 (WGAN-GP, eta 1.3) over two seeds at 2,000 steps; CIFAR-10: see -ref-ratio.
	setting.PerKey("penalty", func(c *Config) *string { return &c.Loss.Penalty },
		byDataset(map[string]string{datasets.CIFAR10: model.PenaltyZero, datasets.CelebA64: "", datasets.MNIST: model.PenaltyZero, datasets.Folder: ""}),
		"the gradient penalty's form: gp (WGAN-GP: mean (||grad_z f|| - 1)^2) or zero (zero-centred, the "+
			"Sobolev-GAN/R1 form: mean ||grad_z f||^2; with -ref-ratio its gradient follows the probability-flow "+
			"step: docs/quality.md); default per dataset, see below", setting.OneOf(model.PenaltyGP, model.PenaltyZero)),
	setting.Var("lambda-l2", func(c *Config) *float64 { return &c.Loss.LambdaL2 }, model.DefaultLoss().LambdaL2,
		"weight of the l2 (variance) penalty mean f^2"),
	// MNIST and CIFAR-10 pair their batches (issue 10, docs/quality.md): on MNIST the critic reaches at 1,000 steps
	// what the unpaired recipe reached at 2,000.
	setting.PerKey("mmd", func(c *Config) *string { return &c.Loss.MMD },
		byDataset(map[string]string{datasets.CIFAR10: model.MMDPaired, datasets.CelebA64: "", datasets.MNIST: model.MMDPaired, datasets.Folder: ""}),
		"MMD^2 estimator: unbiased (U-statistic), biased (V-statistic ||mean a - mean b||^2) or paired (the reference "+
			"batch is the noisy batch's own images, with the same noise at -ref-ratio's level: the U-statistic of the "+
			"pairs' feature differences); default per dataset, see below",
		setting.OneOf(model.MMDUnbiased, model.MMDBiased, model.MMDPaired)),
	setting.Var("l2", func(c *Config) *string { return &c.Loss.L2 }, "",
		"the l2 penalty: witness (mean f^2 over both batches), set-means (the squared mean of f over each batch) "+
			"or features (mean ||phi||^2)", setting.OneOf(model.L2Witness, model.L2SetMeans, model.L2Features)),

	// Bookkeeping.
	setting.Var("ckpt-every", func(c *Config) *int64 { return &c.Run.CkptEvery }, 1000,
		"checkpoint every N steps and/or every wall-clock interval, e.g. 1000, 10m or 1000,10m",
		setting.Also("ckpt-interval")).WithFlag(func(c *Config) flag.Value { return ckptEvery{&c.Run} }),
	setting.Var("ckpt-interval", func(c *Config) *Duration { return &c.Run.CkptInterval }, Duration(10*time.Minute),
		"", setting.Hidden), // set by -ckpt-every
	setting.Var("keep", func(c *Config) *int { return &c.Run.Keep }, 3, "keep the newest N checkpoints (and the newest good one while newer ones are unconfirmed)"),
	setting.Var("log-every", func(c *Config) *int { return &c.Run.LogEvery }, 50,
		"print a progress line every N steps when stderr is not a terminal (a live bar when it is)"),
	setting.Var("diag-n", func(c *Config) *int { return &c.Run.DiagN }, DefaultDiagN,
		"critic diagnostics after every checkpoint on N clean and N noised images (held out when the dataset has a "+
			"test split) at 9 levels, to diagnostics.jsonl and diagnostics.png (0 = off)"),
	// A checkpoint with the grid costs about as much as 110 of the narrow preset's steps (7.1 s in
	// BenchmarkTrainerExtrasMNIST against a median step of 0.063 s), so MNIST's default draws one every 4,000 steps
	// (about every 4 minutes on 2 cores).
	setting.PerKey("sample-every", func(c *Config) *int64 { return &c.Sample.Every },
		byDataset(map[string]int64{datasets.CIFAR10: 1000, datasets.CelebA64: 1000, datasets.MNIST: 4000, datasets.Folder: 1000}),
		"write samples/step-<step>.png from the EMA weights every N steps (0 = off); default per dataset, see below"),
	setting.Var("sample-n", func(c *Config) *int { return &c.Sample.Particles }, 64, "particles in each sample grid"),
	setting.Var("sample-refs", func(c *Config) *int { return &c.Sample.Refs }, 500,
		"score each sample grid by its pixel MMD^2 to this many data images, logged to samples/scores.jsonl (0 = no score)"),
}

// byDataset is a per-dataset default read from a map, which must name every dataset.
func byDataset[T any](m map[string]T) func(string) T {
	for _, name := range datasets.Names {
		if _, ok := m[name]; !ok {
			panic("train: a per-dataset default lacks " + name)
		}
	}
	return func(dataset string) T { return m[dataset] }
}

// ckptEvery is the -ckpt-every flag: a step count, a wall-clock interval, or both ("1000,10m"), read into
// RunSettings.CkptEvery and CkptInterval.
type ckptEvery struct{ r *RunSettings }

func (c ckptEvery) String() string {
	if c.r == nil {
		return "0"
	}
	var parts []string
	if c.r.CkptEvery > 0 {
		parts = append(parts, strconv.FormatInt(c.r.CkptEvery, 10))
	}
	if c.r.CkptInterval > 0 {
		parts = append(parts, time.Duration(c.r.CkptInterval).String())
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ",")
}

func (c ckptEvery) Set(s string) error {
	c.r.CkptEvery, c.r.CkptInterval = 0, 0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if n, err := strconv.ParseInt(part, 10, 64); err == nil {
			if n < 0 {
				return fmt.Errorf("negative step count %d", n)
			}
			c.r.CkptEvery = n
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is neither a step count nor a duration such as 10m", part)
		}
		c.r.CkptInterval = Duration(d)
	}
	return nil
}
