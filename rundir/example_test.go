package rundir_test

import (
	"fmt"

	"github.com/dmmd/dmmd/rundir"
)

// A reader (the sampler, say) opens a run directory or a checkpoint file and takes the sampling weights and what
// it needs of the run's configuration, without the trainer.
func ExampleLoadEMA() {
	ck, err := rundir.Open("testdata/ckpt-000000002.safetensors") // or a run directory: its latest checkpoint
	if err != nil {
		fmt.Println(err)
		return
	}
	params, cfg, err := rundir.LoadEMA(ck.File)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("step %d: %s, preset %s, %d parameters for %dx%dx%d images\n", ck.Step, cfg.Dataset, cfg.Preset,
		params.Count(), cfg.Model.Channels, cfg.Model.ImageSize, cfg.Model.ImageSize)
	fmt.Println(rundir.Ours(rundir.CheckpointName(ck.Step)), rundir.Ours("notes.txt"))
	// Output:
	// step 2: folder, preset tiny, 3176 parameters for 1x8x8 images
	// true false
}
