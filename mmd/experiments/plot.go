package experiments

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"math"
	"os"

	"github.com/dmmd/dmmd/mmd"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	colorNoise   = color.RGBA{R: 221, G: 110, B: 0, A: 255}
	colorNoNoise = color.RGBA{R: 31, G: 94, B: 196, A: 255}
	colorTarget  = color.RGBA{R: 150, G: 150, B: 150, A: 255}
)

func faded(c color.RGBA) color.RGBA {
	return color.RGBA{R: uint8(255 - (255-int(c.R))*2/5), G: uint8(255 - (255-int(c.G))*2/5), B: uint8(255 - (255-int(c.B))*2/5), A: 255}
}

// logFloor keeps values plotted on a log axis positive.
const logFloor = 1e-12

func curve(xs []int, ys []float64) plotter.XYs {
	pts := make(plotter.XYs, 0, len(xs))
	for i := range min(len(xs), len(ys)) {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			break
		}
		pts = append(pts, plotter.XY{X: float64(xs[i]), Y: math.Max(ys[i], logFloor)})
	}
	return pts
}

// meanCurve averages runs point by point over the runs long enough.
func meanCurve(xs [][]int, ys [][]float64) plotter.XYs {
	var pts plotter.XYs
	for i := 0; ; i++ {
		var s float64
		var n int
		var x int
		for r := range ys {
			if i < len(ys[r]) && i < len(xs[r]) && !math.IsNaN(ys[r][i]) && !math.IsInf(ys[r][i], 0) {
				s += ys[r][i]
				x = xs[r][i]
				n++
			}
		}
		if n == 0 {
			return pts
		}
		pts = append(pts, plotter.XY{X: float64(x), Y: math.Max(s/float64(n), logFloor)})
	}
}

func addLine(p *plot.Plot, pts plotter.XYs, c color.Color, width vg.Length, legend string) error {
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("mmd: plot: %w", err)
	}
	l.Color = c
	l.Width = width
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}

// logY puts the y axis on a log scale whose ends are powers of ten, so that
// the axis always carries at least two labelled ticks, and moves the legend
// into the top right corner.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.XOffs = -2 * vg.Millimeter
	p.Legend.YOffs = -2 * vg.Millimeter
}

// decadeRange widens the y range of p to whole powers of ten; call it after
// adding the data.
func decadeRange(p *plot.Plot) {
	if p.Y.Min > 0 && p.Y.Max > 0 {
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(p.Y.Min)))
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(p.Y.Max)))
	}
}

// PlotStudentTeacher draws the validation loss against the epoch for each
// seed (thin) and averaged over seeds (thick), with and without noise, and
// saves it to path (the extension picks the format, e.g. .png).
func PlotStudentTeacher(s *StudentTeacherSummary, path string) error {
	p := plot.New()
	c := s.Config
	p.Title.Text = fmt.Sprintf("Student-teacher MMD flow: d=%d, N=%d particles, %d epochs, seeds %v", c.Dim, c.Particles, c.Epochs, s.Seeds)
	if !s.Complete {
		p.Title.Text += fmt.Sprintf(" (partial: %d done)", s.SeedsDone)
	}
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "validation loss (1/2) mean (y - yhat)^2"
	logY(p)
	p.Add(plotter.NewGrid())
	groups := []struct {
		runs  []*StudentTeacherRun
		col   color.RGBA
		label string
	}{
		{s.WithoutNoise, colorNoNoise, "no noise"},
		{s.WithNoise, colorNoise, "noise injection " + s.Noise},
	}
	for _, g := range groups {
		// Thin lines for every run when there are several (finished or
		// not), a thick one for the mean of the finished runs.
		var xs [][]int
		var ys [][]float64
		for _, r := range g.runs {
			if len(g.runs) > 1 || !r.Done {
				if err := addLine(p, curve(r.Epochs, r.Valid), faded(g.col), vg.Points(0.7), ""); err != nil {
					return err
				}
			}
			if r.Done {
				xs, ys = append(xs, r.Epochs), append(ys, r.Valid)
			}
		}
		label := g.label
		switch {
		case len(ys) == 0:
			continue
		case len(g.runs) > 1:
			label += fmt.Sprintf(" (mean of %d)", len(ys))
		}
		if err := addLine(p, meanCurve(xs, ys), g.col, vg.Points(2), label); err != nil {
			return err
		}
	}
	decadeRange(p)
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("mmd: saving %s: %w", path, err)
	}
	return nil
}

// PlotToyCurves draws MMD^2 to the target against the iteration for the
// runs with and without noise and saves it to path.
func PlotToyCurves(s *ToySummary, path string) error {
	p := plot.New()
	c := s.Config
	p.Title.Text = fmt.Sprintf("MMD flow to a %s (N=%d, M=%d, %s)", targetName(c), c.Particles, c.Targets, s.Kernel)
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "MMD^2 to the target (biased)"
	logY(p)
	p.Add(plotter.NewGrid())
	if err := addLine(p, curve(s.WithoutNoise.Steps, s.WithoutNoise.MMD2), colorNoNoise, vg.Points(1.5), "no noise"); err != nil {
		return err
	}
	if err := addLine(p, curve(s.WithNoise.Steps, s.WithNoise.MMD2), colorNoise, vg.Points(1.5), "noise injection "+s.Noise); err != nil {
		return err
	}
	decadeRange(p)
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("mmd: saving %s: %w", path, err)
	}
	return nil
}

func targetName(c ToyConfig) string {
	if c.Target == "ring" {
		return fmt.Sprintf("ring of %d Gaussians", c.Modes)
	}
	return "two moons"
}

func xys(p mmd.Points) plotter.XYs {
	pts := make(plotter.XYs, p.Len())
	for i := range pts {
		pts[i] = plotter.XY{X: p.Data[2*i], Y: p.Data[2*i+1]}
	}
	return pts
}

// toyBox returns the square plotting window: the target and the initial
// particles with a margin.
func toyBox(s *ToySummary) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	grow := func(p mmd.Points) {
		for _, v := range p.Data {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	grow(s.Target)
	if snap, ok := s.WithoutNoise.At(0); ok {
		grow(snap.Particles)
	}
	m := 0.1 * (hi - lo)
	return lo - m, hi + m
}

// particlePanel draws the target (grey) and one snapshot of particles.
func particlePanel(s *ToySummary, snap Snapshot, col color.Color, title string, lo, hi float64, dot vg.Length) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	p.HideAxes()
	for _, layer := range []struct {
		pts mmd.Points
		c   color.Color
	}{{s.Target, colorTarget}, {snap.Particles, col}} {
		sc, err := plotter.NewScatter(xys(layer.pts))
		if err != nil {
			return nil, fmt.Errorf("mmd: plot: %w", err)
		}
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = dot
		sc.GlyphStyle.Color = layer.c
		p.Add(sc)
	}
	// Keep the window fixed whatever the particles do.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return p, nil
}

func drawGrid(plots [][]*plot.Plot, w, h vg.Length) (*vgimg.Canvas, error) {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	return img, nil
}

// PlotToyFrames draws a strip of snapshots, without noise (top row) and
// with noise (bottom row), of the target (grey) and the particles, and saves
// it as a PNG to path.
func PlotToyFrames(s *ToySummary, path string) error {
	lo, hi := toyBox(s)
	steps := evenSteps(s.Config.Frames, s.Config.Steps)
	var rows [][]*plot.Plot
	for _, r := range []struct {
		run   *ToyRun
		col   color.Color
		label string
	}{{s.WithoutNoise, colorNoNoise, "no noise"}, {s.WithNoise, colorNoise, "noise"}} {
		var row []*plot.Plot
		for _, n := range steps {
			snap, ok := r.run.At(n)
			if !ok {
				return fmt.Errorf("mmd: toy: no snapshot at step %d", n)
			}
			p, err := particlePanel(s, snap, r.col, fmt.Sprintf("%s, step %d", r.label, n), lo, hi, vg.Points(1))
			if err != nil {
				return err
			}
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	panel := 1.6 * vg.Inch
	img, err := drawGrid(rows, panel*vg.Length(len(steps)), 2*panel+0.2*vg.Inch)
	if err != nil {
		return err
	}
	return savePNG(img, path)
}

func savePNG(img *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mmd: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("mmd: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mmd: writing %s: %w", path, err)
	}
	return nil
}

// ToyGIF writes an animation of both runs side by side (no noise left,
// noise right) to path, one frame per GIF snapshot, delay hundredths of a
// second apart.
func ToyGIF(s *ToySummary, path string, delay int) error {
	if s.Config.GIFFrames < 2 {
		return fmt.Errorf("mmd: toy: no GIF frames were recorded: %w", mmd.ErrParam)
	}
	lo, hi := toyBox(s)
	pal := color.Palette{color.White, color.Black, colorTarget, colorNoise, colorNoNoise,
		faded(colorNoise), faded(colorNoNoise), faded(colorTarget), color.RGBA{R: 90, G: 90, B: 90, A: 255},
		color.RGBA{R: 200, G: 200, B: 200, A: 255}}
	anim := &gif.GIF{}
	for _, n := range evenSteps(s.Config.GIFFrames, s.Config.Steps) {
		a, okA := s.WithoutNoise.At(n)
		b, okB := s.WithNoise.At(n)
		if !okA || !okB {
			return fmt.Errorf("mmd: toy: no snapshot at step %d", n)
		}
		pa, err := particlePanel(s, a, colorNoNoise, fmt.Sprintf("no noise, step %d", n), lo, hi, vg.Points(1.2))
		if err != nil {
			return err
		}
		pb, err := particlePanel(s, b, colorNoise, fmt.Sprintf("noise, step %d", n), lo, hi, vg.Points(1.2))
		if err != nil {
			return err
		}
		img, err := drawGrid([][]*plot.Plot{{pa, pb}}, 6*vg.Inch, 3.1*vg.Inch)
		if err != nil {
			return err
		}
		src := img.Image()
		dst := image.NewPaletted(src.Bounds(), pal)
		stddraw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, stddraw.Src)
		anim.Image = append(anim.Image, dst)
		anim.Delay = append(anim.Delay, delay)
	}
	anim.Delay[len(anim.Delay)-1] = 4 * delay
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mmd: %w", err)
	}
	if err := gif.EncodeAll(f, anim); err != nil {
		f.Close()
		return fmt.Errorf("mmd: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mmd: writing %s: %w", path, err)
	}
	return nil
}
