package checkpoints_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/checkpoints"
)

// A trainer saves checkpoints as it goes and resumes from the latest one after a crash.
func Example() {
	dir, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	type Config struct {
		Dim int     `json:"dim"`
		LR  float64 `json:"lr"`
	}
	cfg := Config{Dim: 4, LR: 1e-4}
	run, err := checkpoints.OpenRun(dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := run.WriteConfig(cfg); err != nil {
		log.Fatal(err)
	}

	// Training: every so often, snapshot everything needed to continue exactly.
	params := []float32{0.1, 0.2, 0.3, 0.4}
	pcg := rand.NewPCG(1, 2)
	for step := int64(1000); step <= 3000; step += 1000 {
		params[0] = float32(step) // ... training happens here ...
		w := checkpoints.NewWriter()
		w.AddF32("params", []int{cfg.Dim}, params)
		w.AddF32("ema", nil, params)
		state, _ := pcg.MarshalBinary()
		w.AddBytes("rng", state)
		if _, err := run.Save(step, w); err != nil {
			log.Fatal(err)
		}
		if err := run.Keep(2); err != nil {
			log.Fatal(err)
		}
	}

	// Resuming, in a later process.
	var resumed Config
	if _, err := run.ReadConfig(&resumed); err != nil {
		log.Fatal(err)
	}
	ld, err := run.Latest()
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Println("fresh run")
		return
	} else if err != nil {
		log.Fatal(err)
	}
	if ld.Warning != "" {
		log.Print(ld.Warning)
	}
	want := map[string][]int{"params": {resumed.Dim}, "ema": {resumed.Dim}, "rng": nil}
	if err := ld.File.CheckShapes(want); err != nil {
		log.Fatal(err)
	}
	restored := make([]float32, resumed.Dim)
	if err := ld.File.F32Into("params", restored); err != nil {
		log.Fatal(err)
	}
	state, _, _ := ld.File.U8("rng")
	if err := pcg.UnmarshalBinary(state); err != nil {
		log.Fatal(err)
	}
	fmt.Println("resumed at step", ld.Step, "params", restored)
	cs, _ := run.Checkpoints()
	for _, c := range cs {
		fmt.Println(filepath.Base(c.Path))
	}
	// Output:
	// resumed at step 3000 params [3000 0.2 0.3 0.4]
	// ckpt-000002000.safetensors
	// ckpt-000003000.safetensors
}

// The sampler stores mean embeddings next to a checkpoint, tagged with the checkpoint's step.
func ExampleWriter() {
	dir, err := os.MkdirTemp("", "emb")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mean-embeddings-000003000.safetensors")

	w := checkpoints.NewWriter()
	w.AddF64("mean", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	w.SetMeta("checkpoint_step", "3000")
	if err := w.WriteFile(path); err != nil {
		log.Fatal(err)
	}

	f, err := checkpoints.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	mean, shape, err := f.F64("mean")
	if err != nil {
		log.Fatal(err)
	}
	step, _ := f.Meta("checkpoint_step")
	fmt.Println(f.Names(), shape, mean, "step", step)
	// Output: [mean] [2 3] [1 2 3 4 5 6] step 3000
}

// KeepAlso prunes like Keep but spares chosen steps too, such as the newest checkpoint known to be good while the
// newer ones are still suspect.
func ExampleRun_KeepAlso() {
	dir, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	run, err := checkpoints.OpenRun(dir)
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(100); step <= 500; step += 100 {
		w := checkpoints.NewWriter()
		w.AddF32("params", []int{1}, []float32{float32(step)})
		if _, err := run.Save(step, w); err != nil {
			log.Fatal(err)
		}
	}
	if err := run.KeepAlso(1, 200); err != nil { // the newest one, and step 200
		log.Fatal(err)
	}
	cs, _ := run.Checkpoints()
	for _, c := range cs {
		fmt.Println(c.Step)
	}
	// Output:
	// 200
	// 500
}
