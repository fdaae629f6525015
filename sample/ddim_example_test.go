package sample_test

import (
	"fmt"
	"testing"

	"github.com/dmmd/dmmd/sample"
)

// A DDIM flow for a critic trained with -ref-ratio 0.5: the mean embeddings are taken at the same reference ratio,
// and record the data's mean square, which sets the update's step lengths.
func ExampleDefaultOptionsFor() {
	critic := newRFF(1, 4, 4, 64, 0.3, 2, 1) // a 1x4x4 "image" critic
	train := newCloud(64, 16, 2)

	opt := sample.DefaultOptionsFor(sample.Exact, sample.DDIM, 16)
	opt.RefRatio = 0.5 // the checkpoint's train.Config.RefRatio
	opt.Levels, opt.Particles = 10, 16
	levels, err := opt.LevelGrid()
	if err != nil {
		fmt.Println(err)
		return
	}
	emb, err := sample.ComputeEmbeddings(critic, train, levels,
		sample.EmbedOptions{RefRatio: opt.RefRatio, SkipNoised: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	flow, err := sample.NewFlow(critic, emb, opt)
	if err != nil {
		fmt.Println(err)
		return
	}
	z, err := flow.Sample(16)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opt.Update, "eta", opt.Eta, "x0 clip", opt.X0Clip, "NFE", flow.NFE(), "values", len(z))
	fmt.Printf("data mean square %.2f, reference ratio %v\n", emb.MeanSq, emb.RefRatio)
	// Output:
	// ddim eta 1.3 x0 clip true NFE 20 values 256
	// data mean square 0.26, reference ratio 0.5
}

// Embeddings stored by an older dmmd do not record the data's mean square; MeanSquare computes it from the same
// images without the critic, so that the DDIM update can use them.
func ExampleMeanSquare() {
	train := newCloud(64, 16, 2) // values near +-0.5
	m, err := sample.MeanSquare(train, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2f\n", m)
	// Output: 0.26
}

func ExampleParseUpdate() {
	u, err := sample.ParseUpdate("ddim")
	fmt.Println(u, err)
	_, err = sample.ParseUpdate("ode")
	fmt.Println(err)
	// Output:
	// ddim <nil>
	// sample: unknown update "ode" (want euler or ddim)
}

// TestDDIMDoesNotAllocate: after NewFlow, a DDIM group allocates nothing (the test critic is allocation-free).
func TestDDIMDoesNotAllocate(t *testing.T) {
	const dim = 4
	c := newRFF(1, 2, 2, 16, 0.2, 1, 5)
	d := newCloud(20, dim, 6)
	o := sample.DefaultOptionsFor(sample.Exact, sample.DDIM, dim)
	o.Levels, o.Particles, o.Chunk, o.Noise = 3, 12, 5, 0.3
	f, err := sample.NewFlow(c, embedder(t, c, d)(o), o)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, f.GroupLen())
	_ = f.Group(0, buf)
	if a := testing.AllocsPerRun(5, func() { _ = f.Group(1, buf) }); a != 0 {
		t.Errorf("%v allocations per group", a)
	}
}
