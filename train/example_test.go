package train_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/train"
)

// Optional diagnostics never stop a run: here the sample score cannot be made (every image is the same, so the
// score has no kernel width), training goes on, and warnings.jsonl says why.
func ExampleReadWarnings() {
	dir, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ds, _ := data.NewU8(data.Shape{C: 1, H: 8, W: 8}, make([]uint8, 8*64), nil) // 8 black images
	cfg, _ := train.DefaultConfig("folder")
	cfg.Preset, cfg.Batch, cfg.Steps, cfg.FolderSize = "tiny", 4, 4, 8
	cfg.Sample.Every, cfg.Sample.Particles = 2, 4
	res, err := train.Run(context.Background(), cfg, train.Options{Out: filepath.Join(dir, "run"), Dataset: ds})
	if err != nil {
		log.Fatal(err)
	}
	ws, err := train.ReadWarnings(filepath.Join(dir, "run"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trained to step", res.Step)
	for _, w := range ws {
		fmt.Println(w.Step, w.What)
	}
	// Output:
	// trained to step 4
	// 2 sample score
}

// The train command's flags: the chosen dataset's defaults, overridden by the flags given; Set names those, so that
// a resumed run overrides only them.
func ExampleParseCommandLine() {
	cfg, opt, err := train.ParseCommandLine([]string{"-dataset", "mnist", "-lr", "1e-3", "-tdist", "uniform"}, io.Discard)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Steps, cfg.Adam.LR, cfg.TDist, opt.Out)
	fmt.Println(slices.Sorted(maps.Keys(opt.Set)))
	// Output:
	// 32000 0.001 uniform runs/mnist
	// [dataset lr tdist]
}

// The loss weights of -level-weight 30 on MNIST's defaults (reference at 0.8 t): 1 where a level's step is
// longest, more where it is short, at most 30.
func ExampleConfig_LevelWeightAt() {
	c, err := train.DefaultConfig("mnist")
	if err != nil {
		fmt.Println(err)
		return
	}
	c.LevelWeight = 30
	for _, t := range []float64{0.01, 0.1, 0.2, 0.45, 0.8, 1} {
		fmt.Printf("t = %.2f: weight %.2f\n", t, c.LevelWeightAt(t))
	}
	// Output:
	// t = 0.01: weight 30.00
	// t = 0.10: weight 8.15
	// t = 0.20: weight 2.33
	// t = 0.45: weight 1.00
	// t = 0.80: weight 4.13
	// t = 1.00: weight 28.13
}

// The learning rate of a 16,000-step run that cools down over its last eighth to a third of -lr.
func ExampleConfig_LRAt() {
	c, _ := train.DefaultConfig("mnist")
	c.Steps, c.LRCooldown, c.LRFinal = 16000, 0.125, 1.0/3
	for _, s := range []int64{1, 14000, 15000, 16000} {
		fmt.Printf("step %5d: %.2e\n", s, c.LRAt(s))
	}
	// Output:
	// step     1: 1.20e-03
	// step 14000: 1.20e-03
	// step 15000: 8.00e-04
	// step 16000: 4.00e-04
}
