package train

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// diagPanels are the critic diagnostics drawn over training, one panel each, one line per level.
var diagPanels = []struct {
	title string
	get   func(LevelDiag) float64
}{
	{"participation ratio of phi(y; t) on clean data (collapse: 1-5)", func(l LevelDiag) float64 { return l.PRRef }},
	{"witness std on clean data (flat witness: near 0)", func(l LevelDiag) float64 { return l.WitnessRefStd }},
	{"cosine of grad f(x_t) with x0 - x_t (good: near 1 at low t)", func(l LevelDiag) float64 { return l.GradCos }},
	{"cosine of grad f(x_t) with x_s - x_t, s the reference level (= the above for s = 0)",
		func(l LevelDiag) float64 { return l.StepCos }},
	{"MMD^2 (unbiased, linear kernel on phi)", func(l LevelDiag) float64 { return l.MMD2 }},
}

// levelColor shades the levels from blue (low noise) to red (pure noise).
func levelColor(i, n int) color.Color {
	f := 0.0
	if n > 1 {
		f = float64(i) / float64(n-1)
	}
	return color.RGBA{R: uint8(20 + 210*f), G: uint8(80 + 60*math.Sin(math.Pi*f)), B: uint8(220 - 200*f), A: 255}
}

// renderDiagChart draws each quantity of diagPanels against the checkpoint step, one line per level t. It
// returns the PNG bytes.
func renderDiagChart(history []CriticDiag, title string) ([]byte, error) {
	if len(history) == 0 {
		return nil, fmt.Errorf("train: no critic diagnostics to plot")
	}
	var levels []float64
	for _, d := range history {
		for _, l := range d.Levels {
			if !slices.Contains(levels, l.T) {
				levels = append(levels, l.T)
			}
		}
	}
	slices.Sort(levels)
	plots := make([]*plot.Plot, len(diagPanels))
	for i, panel := range diagPanels {
		p := newPanel(i, len(diagPanels), title, panel.title)
		if i == 0 {
			p.Legend.Top = true
		}
		p.Add(plotter.NewGrid())
		for k, t := range levels {
			var xy plotter.XYs
			for _, d := range history {
				for _, l := range d.Levels {
					if v := panel.get(l); l.T == t && !math.IsNaN(v) && !math.IsInf(v, 0) {
						xy = append(xy, plotter.XY{X: float64(d.Step), Y: v})
					}
				}
			}
			if len(xy) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, fmt.Errorf("train: plotting: %w", err)
			}
			line.Color, points.Color = levelColor(k, len(levels)), levelColor(k, len(levels))
			line.Width, points.Radius = vg.Points(1.2), vg.Points(1.5)
			p.Add(line, points)
			if i == 0 {
				p.Legend.Add(fmt.Sprintf("t = %g", t), line, points)
			}
		}
		plots[i] = p
	}
	return columnPNG(plots, "diagnostics chart")
}
