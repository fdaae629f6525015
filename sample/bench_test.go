package sample_test

import (
	"bytes"
	"context"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/sample"
)

// cifarLike is a dataset of n random 32x32 RGB images.
func cifarLike(b testing.TB, n int) *data.U8 {
	b.Helper()
	shape := data.Shape{C: 3, H: 32, W: 32}
	pix := make([]uint8, n*shape.Size())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	ds, err := data.NewU8(shape, pix, nil)
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

// BenchmarkExportPNG measures the export throughput at 32x32x3: conversion, PNG encoding and the atomic write
// (temporary file + rename) of each image, through ExportReal into a fresh folder.
func BenchmarkExportPNG(b *testing.B) {
	ds := cifarLike(b, 512)
	n := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		b.StartTimer()
		st, err := sample.ExportReal(context.Background(), ds, dir, sample.ExportOptions{})
		if err != nil || st.Written != ds.Len() {
			b.Fatal(st, err)
		}
		n += st.Written
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkEncodePNG is the encoding alone (no file system), for comparison with BenchmarkExportPNG.
func BenchmarkEncodePNG(b *testing.B) {
	ds := cifarLike(b, 64)
	x := make([]float32, ds.Shape().Size())
	var buf bytes.Buffer
	i := 0
	for b.Loop() {
		ds.Image(i%64, x)
		img, err := sample.ToImage(x, ds.Shape())
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := png.Encode(&buf, img); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkFlowStep measures one flow step for a group of 256 particles with the random-Fourier-feature critic:
// in exact mode a feature pass, the leave-one-out directions and a gradient pass; in approx mode the gradient pass.
// A group runs 8 steps; the metric is per step (the initial noise draw is amortised over them).
func BenchmarkFlowStep(b *testing.B) {
	const steps = 8
	for _, size := range []struct {
		name    string
		c, h, w int
		d       int
	}{{"8x8gray_D256", 1, 8, 8, 256}, {"32x32rgb_D128", 3, 32, 32, 128}} {
		for _, mode := range []sample.Mode{sample.Exact, sample.Approx} {
			b.Run(size.name+"/"+mode.String(), func(b *testing.B) {
				dim := size.c * size.h * size.w
				c := newRFF(size.c, size.h, size.w, size.d, 0.5, 2, 1)
				d := newCloud(8, dim, 1)
				o := sample.DefaultOptions(mode, dim)
				o.Levels, o.StepsPerLevel, o.Particles, o.Chunk = 1, steps, 256, 128
				lv, _ := o.LevelGrid()
				e, err := sample.ComputeEmbeddings(c, d, lv, sample.EmbedOptions{})
				if err != nil {
					b.Fatal(err)
				}
				f, err := sample.NewFlow(c, e, o)
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]float32, f.GroupLen())
				for b.Loop() {
					if err := f.Group(0, buf); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps)/1e6, "ms/step")
			})
		}
	}
}

// freeCritic costs nothing, to measure the flow's own overhead per step.
type freeCritic struct{ c, h, w, d int }

func (f freeCritic) Shape() (int, int, int) { return f.c, f.h, f.w }
func (f freeCritic) FeatureDim() int        { return f.d }
func (f freeCritic) Features(z []float32, t float64, out []float32) error {
	return nil
}
func (f freeCritic) WitnessGrad(z []float32, t float64, dirs, out []float32) error {
	return nil
}

// BenchmarkFlowOverhead is BenchmarkFlowStep's exact flow at CIFAR-10 size (256 particles of 3072 values, D = 512)
// with a critic that does no work: what the flow itself adds per step (sums, directions, norms, update).
func BenchmarkFlowOverhead(b *testing.B) {
	const steps = 8
	c := freeCritic{3, 32, 32, 512}
	o := sample.DefaultOptions(sample.Exact, 3072)
	o.Levels, o.StepsPerLevel, o.Particles = 1, steps, 256
	e := &sample.Embeddings{Levels: []float64{o.TMin}, M: 1, MP: [][]float64{make([]float64, 512)}}
	f, err := sample.NewFlow(c, e, o)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]float32, f.GroupLen())
	for b.Loop() {
		if err := f.Group(0, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps)/1e6, "ms/step")
}
