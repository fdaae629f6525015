package train

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dmmd/dmmd/rundir"
)

// LossChartName is the loss chart in the run directory, redrawn at every checkpoint.
const LossChartName = rundir.LossChartName

// chartPanels are the loss terms drawn, one panel each.
var chartPanels = []struct {
	title string
	get   func(Record) float64
}{
	{"loss", func(r Record) float64 { return r.Loss }},
	{"MMD^2 (unbiased)", func(r Record) float64 { return r.MMD2 }},
	{"l2 penalty: mean f^2", func(r Record) float64 { return r.L2 }},
	{"gradient penalty", func(r Record) float64 { return r.GradPenalty }},
	{"mean ||grad_z f||", func(r Record) float64 { return r.GradNorm }},
}

// renderLossChart draws one panel per loss term against the step: the raw values in light grey and a moving
// average over about 1% of the run in blue. It returns the PNG bytes.
func renderLossChart(history []Record, title string) ([]byte, error) {
	if len(history) == 0 {
		return nil, fmt.Errorf("train: no metrics to plot")
	}
	window := max(1, len(history)/100)
	plots := make([]*plot.Plot, len(chartPanels))
	for i, panel := range chartPanels {
		p := newPanel(i, len(chartPanels), title, panel.title)
		raw := make(plotter.XYs, 0, len(history))
		smooth := make(plotter.XYs, 0, len(history))
		var sum float64
		var n int
		var queue []float64
		for _, r := range history {
			v := panel.get(r)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			raw = append(raw, plotter.XY{X: float64(r.Step), Y: v})
			queue = append(queue, v)
			sum += v
			n++
			if len(queue) > window {
				sum -= queue[0]
				queue = queue[1:]
				n--
			}
			smooth = append(smooth, plotter.XY{X: float64(r.Step), Y: sum / float64(n)})
		}
		if len(raw) > 0 {
			raw, smooth = envelope(raw, maxChartPoints), envelope(smooth, maxChartPoints)
			l, err := plotter.NewLine(raw)
			if err != nil {
				return nil, fmt.Errorf("train: plotting: %w", err)
			}
			l.Color = color.Gray{Y: 190}
			s, err := plotter.NewLine(smooth)
			if err != nil {
				return nil, fmt.Errorf("train: plotting: %w", err)
			}
			s.Color = color.RGBA{R: 30, G: 90, B: 200, A: 255}
			s.Width = vg.Points(1.5)
			p.Add(plotter.NewGrid(), l, s)
		}
		plots[i] = p
	}
	return columnPNG(plots, "loss chart")
}

// maxChartPoints bounds the points of each line in the loss chart. Drawing every step made the chart, redrawn at
// every checkpoint, cost time in proportion to the run's length and more (BenchmarkLossChart on the 2-core machine
// beside a training run: 20.2 s at 30,000 noisy steps; with the bound, quiet, 0.65 s, against 0.21 s at 1,000 steps,
// where the bound changes nothing): late in a run of the narrow preset the checkpoint's extras had grown from 3 s to
// 7 s.
const maxChartPoints = 1000

// envelope thins a line of more than max points (max >= 2) to at most max: the points are cut into max/2 runs of
// consecutive points, and each run keeps its lowest and its highest point, in their order, so a one-step spike
// stays in the chart at its height. A line of at most max points is returned as it is.
func envelope(xys plotter.XYs, max int) plotter.XYs {
	if len(xys) <= max {
		return xys
	}
	runs := max / 2
	out := make(plotter.XYs, 0, 2*runs)
	for r := range runs {
		lo, hi := r*len(xys)/runs, (r+1)*len(xys)/runs
		imin, imax := lo, lo
		for i := lo + 1; i < hi; i++ {
			if xys[i].Y < xys[imin].Y {
				imin = i
			}
			if xys[i].Y > xys[imax].Y {
				imax = i
			}
		}
		switch {
		case imin == imax:
			out = append(out, xys[imin])
		case imin < imax:
			out = append(out, xys[imin], xys[imax])
		default:
			out = append(out, xys[imax], xys[imin])
		}
	}
	return out
}

// newPanel starts panel i of the rows in a one-column chart: the chart's title goes above the first panel's
// own, and the step label under the last panel.
func newPanel(i, rows int, chartTitle, panelTitle string) *plot.Plot {
	p := plot.New()
	p.Title.Text = panelTitle
	if i == 0 {
		p.Title.Text = chartTitle + "\n" + panelTitle
	}
	if i == rows-1 {
		p.X.Label.Text = "step"
	}
	return p
}

// columnPNG draws the panels one above another on an 8x11 inch page and returns the PNG bytes; what names the
// chart in an encoding error.
func columnPNG(panels []*plot.Plot, what string) ([]byte, error) {
	plots := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		plots[i] = []*plot.Plot{p}
	}
	const w, h = 8 * vg.Inch, 11 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: vg.Millimeter, PadY: 2 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("train: encoding the %s: %w", what, err)
	}
	return buf.Bytes(), nil
}
