package train

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/model"
)

// TestRefRatioNoisesTheReferenceBatch: on constant images (x0 = -1), with -ref-ratio rho the reference batch of
// group g is alpha(rho t_g) x0 + beta(rho t_g) eps (its own, smaller level), and the noisy batch stays at t_g;
// with rho = 0 the reference batch is the clean data.
func TestRefRatioNoisesTheReferenceBatch(t *testing.T) {
	ds, err := data.NewU8(data.Shape{C: 1, H: 8, W: 8}, make([]uint8, 40*64), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rho := range []float64{0, 0.5, 0.8} {
		c := tinyConfig(t, 1)
		c.Batch, c.Loss.Groups, c.RefRatio = 32, 4, rho
		tr, _, err := setup(c, Options{Out: t.TempDir(), Dataset: ds})
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 3; step++ {
			if _, err := tr.compute(); err != nil {
				t.Fatal(err)
			}
			n := len(tr.y) / len(tr.levels)
			for g, level := range tr.levels {
				for _, side := range []struct {
					name string
					v    []float32
					t    float64
				}{{"reference", tr.y[g*n : (g+1)*n], rho * level}, {"noisy", tr.xt[g*n : (g+1)*n], level}} {
					a, b := 1.0, 0.0
					if side.t > 0 {
						a, b = tr.sched.AlphaBeta(side.t)
					}
					var sum, sq float64
					for _, v := range side.v {
						sum += float64(v)
						sq += float64(v) * float64(v)
					}
					mean := sum / float64(n)
					std := math.Sqrt(max(sq/float64(n)-mean*mean, 0))
					// 512 values: the mean within 4 standard errors (exact when clean), the spread within 20%.
					if math.Abs(mean+a) > 4*b/math.Sqrt(float64(n))+1e-6 || math.Abs(std-b) > 0.2*b+1e-6 {
						t.Errorf("rho %v, step %d, group %d, %s batch at level %.3f: mean %.4f (want %.4f), spread %.4f (want %.4f)",
							rho, step, g, side.name, side.t, mean, -a, std, b)
					}
				}
			}
		}
		tr.metrics.close()
		tr.step.Close()
	}
}

// TestRefRatioFixedOnResume: -ref-ratio changes the objective and the random streams, so a resumed run refuses it;
// a run with rho > 0 trains and records it in its configuration.
func TestRefRatioFixedOnResume(t *testing.T) {
	ds := synthetic(t, 40, 1)
	dir := t.TempDir()
	c := tinyConfig(t, 4)
	c.RefRatio = 0.8
	if _, err := Run(context.Background(), c, Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	saved := new(Config)
	if _, err := (&checkpoints.Run{Dir: dir}).ReadConfig(saved); err != nil {
		t.Fatal(err)
	}
	if saved.RefRatio != 0.8 {
		t.Fatalf("config.json has ref_ratio %v, want 0.8", saved.RefRatio)
	}
	now := *saved
	now.RefRatio = 0.5
	if _, err := ResumeDiff(saved, &now); err == nil || !strings.Contains(err.Error(), "-ref-ratio") {
		t.Fatalf("resume with another -ref-ratio: err = %v, want a refusal naming -ref-ratio", err)
	}
	bad := tinyConfig(t, 4)
	for _, rho := range []float64{-0.1, 1, math.NaN()} {
		bad.RefRatio = rho
		if err := bad.Validate(); err == nil {
			t.Errorf("-ref-ratio %v accepted", rho)
		}
	}
}

// TestPairedBatches: with -mmd paired, row i of the reference batch is row i of the noisy batch's own clean image
// with the same noise, at rho t_g (the clean image at rho = 0): solving the two rows for (x0, eps) gives a dataset
// image (all-equal pixels here, each image a different constant) and one noise for both.
func TestPairedBatches(t *testing.T) {
	const n = 40
	pix := make([]uint8, n*64)
	for i := range n {
		for j := range 64 {
			pix[i*64+j] = uint8(3 * i)
		}
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: 8, W: 8}, pix, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rho := range []float64{0, 0.8} {
		c := tinyConfig(t, 1)
		c.Batch, c.Loss.Groups, c.RefRatio, c.Loss.MMD = 8, 2, rho, model.MMDPaired
		tr, _, err := setup(c, Options{Out: t.TempDir(), Dataset: ds})
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 3; step++ {
			if _, err := tr.compute(); err != nil {
				t.Fatal(err)
			}
			size := 64
			rows := len(tr.y) / len(tr.levels) / size
			for g, level := range tr.levels {
				at, bt := tr.sched.AlphaBeta(level)
				ar, br := 1.0, 0.0
				if rho > 0 {
					ar, br = tr.sched.AlphaBeta(rho * level)
				}
				det := at*br - bt*ar
				for i := range rows {
					r := (g*rows + i) * size
					var x0s []float64
					for j := range size {
						xt, y := float64(tr.xt[r+j]), float64(tr.y[r+j])
						x0s = append(x0s, (xt*br-y*bt)/det) // x0 from the two rows
					}
					for j, x0 := range x0s {
						if math.Abs(x0-x0s[0]) > 2e-3 {
							t.Fatalf("rho %v, step %d, group %d, row %d: the pair's image is not one constant image: pixel %d %v, pixel 0 %v",
								rho, step, g, i, j, x0, x0s[0])
						}
					}
					if k := (x0s[0] + 1) * 127.5 / 3; math.Abs(k-math.Round(k)) > 0.05 {
						t.Fatalf("rho %v: row %d's image %v is no dataset image", rho, i, x0s[0])
					}
				}
			}
		}
		tr.metrics.close()
		tr.step.Close()
	}
}
