package model

import (
	"math"
	"testing"
)

// TestAdamHandComputed checks two Adam steps against values worked out by hand from PyTorch's formulas.
func TestAdamHandComputed(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p, _ := NewParams(cfg)
	g, _ := NewParams(cfg)
	i := p.Index("head.bias")
	p.Data(i).([]float64)[0] = 1.0
	p.Data(i).([]float64)[1] = -2.0
	c := AdamConfig{LR: 0.1, Beta1: 0.5, Beta2: 0.75, Eps: 1e-8}
	a, err := NewAdam(p, c)
	if err != nil {
		t.Fatal(err)
	}
	// Step 1, gradient (2, -0.5): m = (1, -0.25), v = (1, 0.0625); bias corrections 0.5 and 0.25:
	// mhat = (2, -0.5), vhat = (4, 0.25): p -= 0.1 * mhat / (sqrt(vhat) + eps) = 0.1 * (1, -1).
	g.Data(i).([]float64)[0], g.Data(i).([]float64)[1] = 2, -0.5
	if err := a.Update(p, g); err != nil {
		t.Fatal(err)
	}
	want := []float64{1 - 0.1*2/(2+1e-8), -2 + 0.1*0.5/(0.5+1e-8)}
	// Step 2, gradient (1, 1): m = (1, 0.375), v = (1, 0.296875); corrections 0.75 and 0.4375:
	// mhat = (4/3, 0.5), vhat = (16/7, 0.678571...).
	g.Data(i).([]float64)[0], g.Data(i).([]float64)[1] = 1, 1
	if err := a.Update(p, g); err != nil {
		t.Fatal(err)
	}
	want[0] -= 0.1 * (4.0 / 3) / (math.Sqrt(16.0/7) + 1e-8)
	want[1] -= 0.1 * 0.5 / (math.Sqrt(0.296875/0.4375) + 1e-8)
	got := p.Data(i).([]float64)
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-15 {
			t.Errorf("param %d after 2 steps = %.17g, want %.17g", k, got[k], want[k])
		}
	}
	if a.Step != 2 {
		t.Errorf("step count %d", a.Step)
	}
	// Parameters with zero gradient stay put.
	if v := p.Data(i).([]float64)[2]; v != 0 {
		t.Errorf("untouched parameter moved to %v", v)
	}
	if m := a.M.Data(i).([]float64)[0]; m != 1 {
		t.Errorf("first moment %v, want 1", m)
	}
}

func TestAdamConfigValidate(t *testing.T) {
	for _, c := range []AdamConfig{
		{LR: 0, Beta1: 0.5, Beta2: 0.9, Eps: 1e-8},
		{LR: 1e-3, Beta1: 1, Beta2: 0.9, Eps: 1e-8},
		{LR: 1e-3, Beta1: 0.5, Beta2: -0.1, Eps: 1e-8},
		{LR: math.NaN(), Beta1: 0.5, Beta2: 0.9, Eps: 1e-8},
		{LR: 1e-3, Beta1: 0.5, Beta2: 0.9, Eps: 0},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := DefaultAdam().Validate(); err != nil {
		t.Error(err)
	}
}

func TestEMA(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	p, _ := NewParams(cfg)
	i := p.Index("stem.bias")
	p.Data(i).([]float64)[0] = 10
	e, err := NewEMA(p, 0.999)
	if err != nil {
		t.Fatal(err)
	}
	p.Data(i).([]float64)[0] = 20
	want := 10.0
	for n := 0; n < 5; n++ {
		d := math.Min(0.999, float64(1+n)/float64(10+n))
		if r := e.Rate(); r != d {
			t.Fatalf("rate at update %d = %v, want %v", n, r, d)
		}
		if err := e.Update(p); err != nil {
			t.Fatal(err)
		}
		want = d*want + (1-d)*20
	}
	if got := e.Params.Data(i).([]float64)[0]; math.Abs(got-want) > 1e-12 {
		t.Errorf("EMA = %v, want %v", got, want)
	}
	e.Updates = 1 << 20
	if e.Rate() != 0.999 {
		t.Errorf("late rate %v", e.Rate())
	}
	if _, err := NewEMA(p, 1); err == nil {
		t.Error("decay 1 accepted")
	}
}

func TestClipGradNorm(t *testing.T) {
	cfg := tinyConfig(t, 8, 1, "flatten")
	g, _ := NewParams(cfg)
	g.Data(0).([]float64)[0], g.Data(1).([]float64)[0] = 3, 4 // norm 5
	if n := ClipGradNorm(g, 10); n != 5 || g.Data(0).([]float64)[0] != 3 {
		t.Errorf("below the limit: norm %v, value %v", n, g.Data(0).([]float64)[0])
	}
	if n := ClipGradNorm(g, 0); n != 5 {
		t.Errorf("measure only: %v", n)
	}
	if n := ClipGradNorm(g, 1); n != 5 {
		t.Errorf("norm before clipping %v", n)
	}
	if a, b := g.Data(0).([]float64)[0], g.Data(1).([]float64)[0]; math.Abs(a-0.6) > 1e-15 || math.Abs(b-0.8) > 1e-15 {
		t.Errorf("clipped to %v, %v; want 0.6, 0.8", a, b)
	}
}
