package train

import (
	"math"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// TestEnvelope: a long line is thinned to at most max points, in step order, keeping every run's extremes (a
// one-step spike and the deepest dip survive); a short one comes back unchanged.
func TestEnvelope(t *testing.T) {
	line := func(n, spikeAt, dipAt int) plotter.XYs {
		xys := make(plotter.XYs, n)
		for i := range xys {
			xys[i] = plotter.XY{X: float64(i + 1), Y: math.Sin(float64(i) / 30)}
		}
		if spikeAt >= 0 {
			xys[spikeAt].Y = 1e4
		}
		if dipAt >= 0 {
			xys[dipAt].Y = -50
		}
		return xys
	}
	for _, tc := range []struct {
		name           string
		n, max         int
		spikeAt, dipAt int
		wantUnchanged  bool
	}{
		{"short", 100, 2000, 40, -1, true},
		{"exactly max", 2000, 2000, 1999, 0, true},
		{"long", 30000, 2000, 12345, 29999, false},
		{"long, odd max", 10001, 7, 0, 5000, false},
		{"spike and dip in one run", 4000, 4, 10, 11, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := line(tc.n, tc.spikeAt, tc.dipAt)
			out := envelope(in, tc.max)
			if tc.wantUnchanged {
				if len(out) != len(in) || &out[0] != &in[0] {
					t.Fatalf("a line of %d <= %d points came back with %d points or copied", len(in), tc.max, len(out))
				}
				return
			}
			if len(out) > tc.max || len(out) < tc.max/2 {
				t.Fatalf("%d points from %d with max %d", len(out), len(in), tc.max)
			}
			var sawSpike, sawDip bool
			for i, p := range out {
				if i > 0 && p.X <= out[i-1].X {
					t.Fatalf("point %d at step %v after %v: out of order", i, p.X, out[i-1].X)
				}
				if p != in[int(p.X)-1] {
					t.Fatalf("point %v is not one of the line's", p)
				}
				sawSpike = sawSpike || p.Y == 1e4
				sawDip = sawDip || p.Y == -50
			}
			if !sawSpike || !sawDip {
				t.Errorf("spike kept %v, dip kept %v", sawSpike, sawDip)
			}
		})
	}
}
