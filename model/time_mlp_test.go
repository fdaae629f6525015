package model

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestTimeMLP compares the time MLP's graph with silu(fc2(silu(fc1(e)))) computed with plain loops, for two rows
// of time features (two groups). The time MLP is not on the image path, so it has no input-VJP to check.
func TestTimeMLP(t *testing.T) {
	cfg := tinyConfig(t, 8, 3, "flatten")
	p := randomParams(t, cfg, 3)
	b := newBuilder(p)
	e, eT := b.input("e", 2, cfg.TimeEmbed)
	tau, err := b.timeMLP(e)
	if err != nil {
		t.Fatal(err)
	}
	var tauV G.Value
	G.Read(tau, &tauV)
	vm := G.NewTapeMachine(b.g)
	defer vm.Close()
	fillNormal(eT, rand.New(rand.NewPCG(1, 2)), 1)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	silu := func(x float64) float64 { return x / (1 + math.Exp(-x)) }
	// linear returns silu(x W^T + bias) for one row x.
	linear := func(x []float64, name string) []float64 {
		w, bias := p.Float64s(p.Index(name+".weight")), p.Float64s(p.Index(name+".bias"))
		out := make([]float64, len(bias))
		for o := range out {
			s := bias[o]
			for i, v := range x {
				s += w[o*len(x)+i] * v
			}
			out[o] = silu(s)
		}
		return out
	}
	ev, got := eT.Data().([]float64), tauV.Data().([]float64)
	for g := 0; g < 2; g++ {
		want := linear(linear(ev[g*cfg.TimeEmbed:(g+1)*cfg.TimeEmbed], "time.fc1"), "time.fc2")
		for i, w := range want {
			if d := math.Abs(got[g*cfg.TimeHidden+i] - w); d > 1e-12 {
				t.Errorf("row %d, value %d: graph %v, loops %v", g, i, got[g*cfg.TimeHidden+i], w)
			}
		}
	}
}
