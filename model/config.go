package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorgonia.org/tensor"
)

// Config describes the feature network phi(x; t). It is recorded in checkpoints: two runs with equal Configs
// have parameter tensors of equal names and shapes.
type Config struct {
	ImageSize  int    `json:"image_size"`  // input height and width (28, 32 or 64 for the datasets; tests use 8, 16)
	Channels   int    `json:"channels"`    // input channels: 1 or 3
	Widths     []int  `json:"widths"`      // channels of each resolution level; each level after the first halves H, W
	ResBlocks  int    `json:"res_blocks"`  // residual blocks per level (each: two 3x3 convs and a time bias)
	StemStride int    `json:"stem_stride"` // stride of the first 3x3 conv: 1 or 2
	TimeEmbed  int    `json:"time_embed"`  // sinusoidal features of t (even)
	TimeHidden int    `json:"time_hidden"` // width of the time MLP, whose output biases every block
	FeatureDim int    `json:"feature_dim"` // D: the kernel is linear on these features
	Pool       string `json:"pool"`        // "flatten" (all positions) or "mean" (global average) before the head
	// HeadHidden is the width of the head's hidden layer (0: a linear head, every preset; see head.go).
	HeadHidden int    `json:"head_hidden,omitempty"`
	DType      string `json:"dtype"` // "float32" or "float64"
}

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("model: invalid config")

var presets = map[string]Config{
	// tiny exercises every block type (stride-1 stem, residual blocks, a down block) at test sizes.
	"tiny": {Widths: []int{4, 8}, ResBlocks: 1, StemStride: 1, TimeEmbed: 8, TimeHidden: 8, FeatureDim: 8,
		Pool: "flatten", DType: "float32"},
	// small is the CPU default: a 3->64->128->256 encoder (stride-2 stem, two residual down blocks), D = 512.
	"small": {Widths: []int{64, 128, 256}, ResBlocks: 0, StemStride: 2, TimeEmbed: 64, TimeHidden: 128,
		FeatureDim: 512, Pool: "flatten", DType: "float32"},
	// medium is small with a full-resolution first level (stride-1 stem, widths 32, 64, 128, 256): about 1.5x
	// small's multiply-adds at 28x28 and 32x32, for detail at the low-noise end.
	"medium": {Widths: []int{32, 64, 128, 256}, ResBlocks: 0, StemStride: 1, TimeEmbed: 64, TimeHidden: 128,
		FeatureDim: 512, Pool: "flatten", DType: "float32"},
	// narrow is small at half the width (3->32->64->128, D = 256): about a quarter of its multiply-adds, for
	// time-limited CPU runs where the number of steps, not capacity, limits the critic (issue 10).
	"narrow": {Widths: []int{32, 64, 128}, ResBlocks: 0, StemStride: 2, TimeEmbed: 64, TimeHidden: 128,
		FeatureDim: 256, Pool: "flatten", DType: "float32"},
	// base adds a residual block per level and a full-resolution first level: for long runs.
	"base": {Widths: []int{128, 256, 256, 256}, ResBlocks: 1, StemStride: 1, TimeEmbed: 128, TimeHidden: 256,
		FeatureDim: 512, Pool: "flatten", DType: "float32"},
}

// Presets lists the preset names.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named preset for images of the given size and channel count.
func Preset(name string, imageSize, channels int) (Config, error) {
	p, ok := presets[strings.ToLower(name)]
	if !ok {
		return Config{}, fmt.Errorf("%w: unknown preset %q (have %s)", ErrConfig, name, strings.Join(Presets(), ", "))
	}
	p.Widths = append([]int(nil), p.Widths...)
	p.ImageSize, p.Channels = imageSize, channels
	if name == "base" && imageSize >= 64 {
		p.StemStride = 2
	}
	return p, p.Validate()
}

// Validate checks that c describes a buildable network.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.ImageSize < 4 || c.ImageSize > 1024:
		return bad("image size %d outside [4, 1024]", c.ImageSize)
	case c.Channels != 1 && c.Channels != 3:
		return bad("channels %d (want 1 or 3)", c.Channels)
	case len(c.Widths) == 0:
		return bad("no widths")
	case c.ResBlocks < 0 || c.ResBlocks > 16:
		return bad("res blocks %d outside [0, 16]", c.ResBlocks)
	case c.StemStride != 1 && c.StemStride != 2:
		return bad("stem stride %d (want 1 or 2)", c.StemStride)
	case c.TimeEmbed < 2 || c.TimeEmbed%2 != 0:
		return bad("time embedding size %d must be even and >= 2", c.TimeEmbed)
	case c.TimeHidden < 1:
		return bad("time hidden size %d", c.TimeHidden)
	case c.FeatureDim < 1:
		return bad("feature dim %d", c.FeatureDim)
	case c.Pool != "flatten" && c.Pool != "mean":
		return bad("pool %q (want flatten or mean)", c.Pool)
	case c.HeadHidden < 0 || c.HeadHidden > 65536:
		return bad("head hidden width %d outside [0, 65536]", c.HeadHidden)
	case c.DType != "float32" && c.DType != "float64":
		return bad("dtype %q (want float32 or float64)", c.DType)
	}
	for i, w := range c.Widths {
		if w < 1 || w > 4096 {
			return bad("width %d of level %d outside [1, 4096]", w, i)
		}
	}
	if c.ResBlocks == 0 && len(c.Widths) < 2 {
		return bad("no time-conditioned block: use res blocks > 0 or at least two widths")
	}
	return nil
}

// LevelSizes returns the spatial size (height = width) of each level.
func (c Config) LevelSizes() []int {
	out := make([]int, len(c.Widths))
	s := downSize(c.ImageSize, c.StemStride)
	for l := range c.Widths {
		if l > 0 {
			s = downSize(s, 2)
		}
		out[l] = s
	}
	return out
}

// downSize is the output size of a 3x3 convolution with padding 1 and the given stride.
func downSize(in, stride int) int { return (in-1)/stride + 1 }

// HeadInputs is F, the number of pooled features the head reads (the inputs of its first linear layer).
func (c Config) HeadInputs() int {
	last := c.Widths[len(c.Widths)-1]
	if c.Pool == "mean" {
		return last
	}
	s := c.LevelSizes()[len(c.Widths)-1]
	return last * s * s
}

// InputSize is the number of values in one image: Channels * ImageSize^2.
func (c Config) InputSize() int { return c.Channels * c.ImageSize * c.ImageSize }

func (c Config) dtype() tensor.Dtype {
	if c.DType == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}
