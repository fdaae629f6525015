package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The unit test of a block type is one call of checkBlocks with that type: it checks the block's input-VJP against
// finite differences of its forward pass, for every block of that type in a few float64 networks.

// blockConfigs are the float64 networks the block checks run on: the tiny preset (a stride-1 stem, a residual block
// per level, a down block) with both pools, one at an odd size with a stride-2 stem, and one with a hidden head layer.
func blockConfigs(t *testing.T) []Config {
	a := tinyConfig(t, 8, 3, "flatten")
	b := tinyConfig(t, 9, 1, "mean")
	b.StemStride = 2
	b.ResBlocks = 2
	c := tinyConfig(t, 8, 3, "flatten+hidden")
	return []Config{a, b, c}
}

// checkBlocks runs checkVJP on every block of type T on the image path of the blockConfigs, with one and with two
// time groups. The head is checked through headBlock.
func checkBlocks[T imageBlock](t *testing.T) {
	found := 0
	for ci, cfg := range blockConfigs(t) {
		p := randomParams(t, cfg, uint64(10+ci))
		net := newNetwork(cfg)
		blocks := append(append([]imageBlock{}, net.body...), headBlock{net.head})
		ins := blockInputs(t, p, 4)
		for i, blk := range blocks {
			if _, ok := blk.(T); !ok {
				continue
			}
			found++
			for _, groups := range []int{1, 2} {
				name := fmt.Sprintf("config%d/block%d/groups%d", ci, i, groups)
				t.Run(name, func(t *testing.T) { checkVJP(t, p, blk, ins[i], groups, uint64(i)) })
			}
		}
	}
	if found == 0 {
		var zero T
		t.Fatalf("no block of type %T in the test networks", zero)
	}
}

// headBlock adapts the head to imageBlock for the check: its vjp is the head's seed followed by its vjp, the
// gradient of <g, phi> with respect to the head's input.
type headBlock struct{ *head }

func (hb headBlock) forward(b *builder, h, _ *G.Node) (*G.Node, saved, error) {
	return hb.head.forward(b, h)
}
func (hb headBlock) vjp(b *builder, s saved, g *G.Node) (*G.Node, error) {
	gflat, err := hb.head.seed(b, g)
	if err != nil {
		return nil, err
	}
	return hb.head.vjp(b, s, gflat)
}

// blockInputs returns the input shape of every block on the image path, then of the head, for a batch of n.
func blockInputs(t *testing.T, p *Params, n int) [][]int {
	t.Helper()
	b := newBuilder(p)
	c := p.cfg
	x, _ := b.input("x", n, c.Channels, c.ImageSize, c.ImageSize)
	e, _ := b.input("e", 1, c.TimeEmbed)
	tau, err := b.timeMLP(e)
	if err != nil {
		t.Fatal(err)
	}
	_, tr, err := b.forward(x, tau)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]int
	for _, s := range append(tr.body, tr.head) {
		out = append(out, []int(s.in.Shape().Clone()))
	}
	return out
}

// checkVJP compares blk's input-VJP with central finite differences of its forward pass, in float64: for random
// h (shape in), tau (groups, TimeHidden), upstream g and direction v,
//
//	<vjp(g), v> = (<g, f(h + eps v)> - <g, f(h - eps v)>) / (2 eps)
//
// up to the finite-difference error.
func checkVJP(t *testing.T, p *Params, blk imageBlock, in []int, groups int, seed uint64) {
	t.Helper()
	b := newBuilder(p)
	h, hT := b.input("h", in...)
	tau, tauT := b.input("tau", groups, p.cfg.TimeHidden)
	out, s, err := blk.forward(b, h, tau)
	if err != nil {
		t.Fatal(err)
	}
	g, gT := b.input("g", out.Shape()...)
	gx, err := blk.vjp(b, s, g)
	if err != nil {
		t.Fatal(err)
	}
	if !gx.Shape().Eq(h.Shape()) {
		t.Fatalf("vjp has shape %v, input %v", gx.Shape(), h.Shape())
	}
	var outV, gxV G.Value
	G.Read(out, &outV)
	G.Read(gx, &gxV)
	vm := G.NewTapeMachine(b.g)
	defer vm.Close()
	run := func() {
		t.Helper()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, d := range []*tensor.Dense{hT, tauT, gT} {
		fillNormal(d, rng, 1)
	}
	h0 := append([]float64(nil), hT.Data().([]float64)...)
	v := randSlice(len(h0), rng)
	run()
	want := dot(gxV.Data().([]float64), v)
	const eps = 1e-6
	at := func(sign float64) float64 {
		hd := hT.Data().([]float64)
		for i := range hd {
			hd[i] = h0[i] + sign*eps*v[i]
		}
		run()
		return dot(gT.Data().([]float64), outV.Data().([]float64))
	}
	got := (at(1) - at(-1)) / (2 * eps)
	if rel := math.Abs(got-want) / math.Max(math.Abs(want), 1e-3); rel > 1e-6 {
		t.Errorf("<vjp(g), v> = %.10g, finite differences %.10g (relative error %.2g)", want, got, rel)
	}
}
