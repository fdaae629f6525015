package sample_test

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/sample"
)

// The whole pipeline on a toy problem: a known feature map (random Fourier features) stands in for the trained
// network, and a 2-d point cloud for the training data.
func Example() {
	critic := newRFF(1, 1, 2, 256, 0.15, 2, 1) // phi(z; t), z in R^2 shaped as a 1x1x2 "image"
	train := newCloud(128, 2, 2)               // the data: 4 clusters in [-1, 1]^2

	opt := sample.DefaultOptions(sample.Exact, 2)
	opt.Particles = 128
	opt.Spacing = diffusion.Quadratic
	opt.EtaSchedule, opt.Eta = sample.EtaBetaDrop, 3 // a total path of 3 suits this 2-d toy

	levels, err := opt.LevelGrid()
	if err != nil {
		fmt.Println(err)
		return
	}
	emb, err := sample.ComputeEmbeddings(critic, train, levels, sample.EmbedOptions{Seed: 1, SkipNoised: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	flow, err := sample.NewFlow(critic, emb, opt)
	if err != nil {
		fmt.Println(err)
		return
	}
	z, err := flow.Sample(128)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("NFE:", flow.NFE())
	fmt.Println("MMD to the data below 0.03:", mmd(z, train.x, 2, 0.5) < 0.03)
	// Output:
	// NFE: 100
	// MMD to the data below 0.03: true
}

func ExampleExport() {
	critic := newRFF(3, 4, 4, 32, 0.5, 2, 3) // 4x4 RGB "images"
	train := newCloud(50, 48, 5)
	opt := sample.DefaultOptions(sample.Exact, 48)
	opt.Levels, opt.Particles = 5, 4
	levels, _ := opt.LevelGrid()
	emb, _ := sample.ComputeEmbeddings(critic, train, levels, sample.EmbedOptions{SkipNoised: true})
	flow, _ := sample.NewFlow(critic, emb, opt)

	dir, _ := os.MkdirTemp("", "samples")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "samples")
	// Two shards of 6 images (groups 0 and 1 of 4 particles; the second group is cut at 6).
	for _, s := range []string{"0/2", "1/2"} {
		shard, _ := sample.ParseShard(s)
		st, err := sample.Export(context.Background(), flow, out, sample.ExportOptions{N: 6, Shard: shard})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("shard %s: %d written\n", shard, st.Written)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// The folder's manifest records the flow's settings: another seed is refused, not mixed in.
	opt.Seed = 1
	other, _ := sample.NewFlow(critic, emb, opt)
	_, err := sample.Export(context.Background(), other, out, sample.ExportOptions{N: 6})
	fmt.Println(strings.Contains(fmt.Sprint(err), "seed: 0 there, 1 now"))
	// Output:
	// shard 0/2: 4 written
	// shard 1/2: 2 written
	// .dmmd-export.json
	// 000000.png
	// 000001.png
	// 000002.png
	// 000003.png
	// 000004.png
	// 000005.png
	// true
}

func ExampleParseShard() {
	s, err := sample.ParseShard("1/4")
	if err != nil {
		fmt.Println(err)
		return
	}
	var groups []int
	for g := range 12 {
		if s.Owns(g) {
			groups = append(groups, g)
		}
	}
	fmt.Println(s, "writes flow groups", groups)
	_, err = sample.ParseShard("4/4")
	fmt.Println(err)
	// Output:
	// 1/4 writes flow groups [1 5 9]
	// sample: shard 4/4: want 0 <= i < n
}

func ExamplePixel() {
	for _, x := range []float32{-1, -0.5, 0, 1, 1.7, float32(200)/127.5 - 1} {
		fmt.Print(sample.Pixel(x), " ")
	}
	fmt.Println()
	// Output: 0 64 128 255 255 200
}

func ExampleGridSize() {
	for _, n := range []int{10, 64, 100} {
		cols, rows := sample.GridSize(n)
		fmt.Printf("%d images: %d x %d\n", n, cols, rows)
	}
	// Output:
	// 10 images: 4 x 3
	// 64 images: 8 x 8
	// 100 images: 10 x 10
}

func ExampleOptions_StepSizes() {
	opt := sample.DefaultOptions(sample.Approx, 3072) // CIFAR-10: a total path of sqrt(3072)
	levels, _ := opt.LevelGrid()
	eta := opt.StepSizes(levels)
	var path float64
	for _, e := range eta {
		path += e * float64(opt.StepsPerLevel)
	}
	fmt.Printf("%v flow, %v schedule: NFE %d, total path %.2f, first step %.1e, last step %.3f\n",
		opt.Mode, opt.EtaSchedule, opt.NFE(), path, eta[0], eta[len(eta)-1])
	// Output: approx flow, beta-drop schedule: NFE 100, total path 55.43, first step 3.0e-04, last step 0.291
}

func ExampleWritePreview() {
	critic := newRFF(1, 8, 8, 32, 0.5, 2, 3) // 8x8 gray "images"
	train := newCloud(100, 64, 5)
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "samples", "step001000.png")
	// The trainer's hook: 64 particles, a cheap exact flow, m_P from the first 256 (here 100) images.
	if err := sample.WritePreview(critic, train, path, sample.PreviewOptions{Scale: 2}); err != nil {
		fmt.Println(err)
		return
	}
	fi, err := os.Stat(path)
	fmt.Println(err == nil && fi.Size() > 0)
	// Output: true
}

func ExampleExportReal() {
	// Two 2x2 gray images with 8-bit values; the export writes those bytes back exactly.
	ds, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, []uint8{0, 64, 128, 255, 1, 2, 3, 4}, nil)
	dir, _ := os.MkdirTemp("", "real")
	defer os.RemoveAll(dir)
	st, err := sample.ExportReal(context.Background(), ds, dir, sample.ExportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fh, _ := os.Open(filepath.Join(dir, "000000.png"))
	defer fh.Close()
	img, _ := png.Decode(fh)
	g := img.(*image.Gray)
	fmt.Println(st.Written, "files; first image:", g.Pix)
	// Output: 2 files; first image: [0 64 128 255]
}

func ExampleGrid() {
	// Five 2x3 gray images on a 3 x 2 grid with a 2-pixel border, upscaled 4x.
	s := data.Shape{C: 1, H: 2, W: 3}
	x := make([]float32, 5*s.Size())
	img, err := sample.Grid(x, s, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Dx(), "x", img.Bounds().Dy())
	// Output: 68 x 40
}

// A Scorer ranks sample sets by their pixel-space MMD^2 to the data: lower is closer.
func ExampleScorer() {
	train := newCloud(400, 2, 2) // the data: 4 clusters in [-1, 1]^2
	sc, err := sample.NewScorer(train, 200)
	if err != nil {
		fmt.Println(err)
		return
	}
	fresh := newCloudNoise(64, 2, 2, 9) // new draws from the same distribution
	good, _ := sc.Score(fresh.x)
	collapsed := make([]float32, 64*2) // every sample at the origin, between the clusters
	bad, _ := sc.Score(collapsed)
	fmt.Println(sc.References(), good < 0.05*sc.NoiseBaseline(), bad > good)
	// Output: 200 true true
}

// DataHash identifies a dataset by its content, so a moved copy matches and other images do not.
func ExampleDataHash() {
	a, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, []uint8{0, 64, 128, 255, 1, 2, 3, 4}, nil)
	moved, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, []uint8{0, 64, 128, 255, 1, 2, 3, 4}, nil)
	other, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, []uint8{0, 64, 128, 255, 1, 2, 3, 5}, nil)
	fmt.Println(strings.HasPrefix(sample.DataHash(a), "2 images 1x2x2 fnv64a "))
	fmt.Println(sample.DataHash(a) == sample.DataHash(moved), sample.DataHash(a) == sample.DataHash(other))
	// Output:
	// true
	// true false
}

// CheckGrid refuses a grid too large to draw before any sample is computed.
func ExampleCheckGrid() {
	s := data.Shape{C: 3, H: 32, W: 32}
	fmt.Println(sample.CheckGrid(64, s, 4))
	fmt.Println(sample.CheckGrid(1_000_000, s, 1))
	// Output:
	// <nil>
	// sample: grid of 1000000 images at scale 1 would be 34002x34002 pixels: too large
}

// Stored mean embeddings are named and checked by their source: another checkpoint or other data never reuse them.
func ExampleEmbeddingsSource_Diff() {
	stored := sample.EmbeddingsSource{Step: 2000, Checkpoint: "sha256:aa", Data: "60000 images 1x28x28 fnv64a 01"}
	now := stored
	now.Checkpoint = "sha256:bb"
	fmt.Println(stored.Diff(now))
	levels := []float64{1, 0.5}
	fmt.Println(sample.EmbeddingsPath("run", levels, 5000, 0, 0, stored) == sample.EmbeddingsPath("run", levels, 5000, 0, 0, now))
	// Output:
	// checkpoint "sha256:aa", not "sha256:bb"
	// false
}

// The flow's enums and the shard are text values, so flag.TextVar parses them directly.
func ExampleMode_UnmarshalText() {
	o := sample.DefaultOptions(sample.Exact, 3*32*32)
	var shard sample.Shard
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	fs.TextVar(&o.Mode, "flow", o.Mode, "exact or approx")
	fs.TextVar(&o.EtaSchedule, "eta-schedule", o.EtaSchedule, "constant, beta-drop or variance")
	fs.TextVar(&o.Clip, "clip", o.Clip, "end, step or none")
	fs.TextVar(&shard, "shard", shard, "i/n")
	err := fs.Parse([]string{"-flow", "approx", "-eta-schedule", "beta-drop", "-clip", "step", "-shard", "1/4"})
	fmt.Println(o.Mode, o.EtaSchedule, o.Clip, shard, err)
	// Output: approx beta-drop step 1/4 <nil>
}
