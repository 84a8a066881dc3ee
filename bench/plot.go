package main

import (
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writePlot draws p50 (solid) and p99 (dashed) latency against offered load
// for each target of the small scenario's open-model runs, to a PNG.
func writePlot(path string, rows []Row) error {
	p := plot.New()
	p.Title.Text = "llmgw: latency against load (small non-streaming request)"
	p.X.Label.Text = "offered load (requests/s, open model)"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	var targets []string
	for _, r := range rows {
		if r.Scenario == "small" && r.Mode == "open" && !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
	}
	if len(targets) == 0 {
		return fmt.Errorf("plot: no open-model small-scenario results to draw (--rate)")
	}
	for i, t := range targets {
		var p50, p99 plotter.XYs
		for _, r := range rows {
			if r.Scenario == "small" && r.Mode == "open" && r.Target == t && r.P50 > 0 {
				p50 = append(p50, plotter.XY{X: r.Load, Y: r.P50})
				p99 = append(p99, plotter.XY{X: r.Load, Y: r.P99})
			}
		}
		byX := func(a, b plotter.XY) int { return int(a.X - b.X) }
		slices.SortFunc(p50, byX)
		slices.SortFunc(p99, byX)
		for j, xy := range []plotter.XYs{p50, p99} {
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
			l.Width = vg.Points(1.5)
			pts.Shape = draw.CircleGlyph{}
			name := t + " p50"
			if j == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				pts.Shape = draw.TriangleGlyph{}
				name = t + " p99"
			}
			p.Add(l, pts)
			p.Legend.Add(name, l, pts)
		}
	}
	return p.Save(9*vg.Inch, 5.5*vg.Inch, path)
}
