package bench

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/infergate/infergate/internal/scheduler"
)

// strategyColors gives every strategy the same colour in every plot.
var strategyColors = map[string]color.Color{
	string(scheduler.StrategyDefault):      color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	string(scheduler.StrategyRoundRobin):   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	string(scheduler.StrategyRandom):       color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	string(scheduler.StrategyLeastRequest): color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	StrategyDirect:                         color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// strategyLabel is the legend text of a strategy.
func strategyLabel(s string) string {
	if s == string(scheduler.StrategyDefault) {
		return "infergate (default)"
	}
	return s
}

// writePlots writes, per scenario: the TTFT CDF per strategy (a single
// point), the latency-versus-rate curves (a sweep) and the throughput per
// strategy. It returns the file names, relative to dir.
func writePlots(dir string, rep *Report) ([]string, error) {
	var files []string
	save := func(p *plot.Plot, name string) error {
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write plot %s: %w", name, err)
		}
		files = append(files, name)
		return nil
	}
	for _, sc := range rep.Scenarios {
		if sc.Kind != KindRouting {
			continue
		}
		if len(sc.Arrival.points()) > 1 {
			p, err := latencyVsRate(sc)
			if err != nil {
				return nil, err
			}
			if err := save(p, sc.Name+"-latency-vs-rate.png"); err != nil {
				return nil, err
			}
			continue
		}
		p, err := ttftCDF(sc)
		if err != nil {
			return nil, err
		}
		if err := save(p, sc.Name+"-ttft-cdf.png"); err != nil {
			return nil, err
		}
		if p, err = throughputBars(sc); err != nil {
			return nil, err
		}
		if err := save(p, sc.Name+"-throughput.png"); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// ttftCDF plots each strategy's TTFT distribution (log x axis).
func ttftCDF(sc *ScenarioResult) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = sc.Name + ": time to first token"
	p.X.Label.Text = "TTFT (ms, model time, log scale)"
	p.Y.Label.Text = "fraction of requests"
	p.Add(plotter.NewGrid())
	for _, r := range sc.Runs {
		if r.Failed != "" || len(r.TTFTSamples) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(r.TTFTSamples))
		for i, v := range r.TTFTSamples {
			pts[i] = plotter.XY{X: max(v, 0.1), Y: float64(i+1) / float64(len(r.TTFTSamples))}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("ttft plot: %w", err)
		}
		l.Color = strategyColor(r.Strategy)
		l.Dashes = armDashes(r.Strategy)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(strategyLabel(r.Strategy), l)
		p.X.Scale = plot.LogScale{} // only with data: an empty log axis panics
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Left, p.Legend.Top = true, true
	return p, nil
}

// latencyVsRate plots TTFT p90 and E2E p90 per strategy against the sweep's
// request rate.
func latencyVsRate(sc *ScenarioResult) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = sc.Name + ": latency vs request rate"
	p.X.Label.Text = "request rate (req/s, model time)"
	p.Y.Label.Text = "p90 latency (ms, log scale)"
	p.Add(plotter.NewGrid())
	var strategies []string
	for _, r := range sc.Runs {
		if !slices.Contains(strategies, r.Strategy) {
			strategies = append(strategies, r.Strategy)
		}
	}
	for _, st := range strategies {
		var ttft, e2e plotter.XYs
		for _, r := range sc.Runs {
			if r.Strategy != st || r.Failed != "" || r.Completed == 0 {
				continue
			}
			ttft = append(ttft, plotter.XY{X: r.Point, Y: max(r.TTFT.P90, 0.1)})
			e2e = append(e2e, plotter.XY{X: r.Point, Y: max(r.E2E.P90, 0.1)})
		}
		if len(ttft) == 0 {
			continue
		}
		for i, series := range []plotter.XYs{ttft, e2e} {
			l, s, err := plotter.NewLinePoints(series)
			if err != nil {
				return nil, fmt.Errorf("rate plot: %w", err)
			}
			l.Color, s.Color = strategyColor(st), strategyColor(st)
			l.Dashes = armDashes(st)
			name := strategyLabel(st) + " TTFT p90"
			if i == 1 {
				l.Dashes = plotutil.Dashes(2)
				name = strategyLabel(st) + " E2E p90"
			}
			p.Add(l, s)
			p.Legend.Add(name, l, s)
			p.Y.Scale = plot.LogScale{} // only with data: an empty log axis panics
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}

// throughputBars plots output tokens per second per strategy.
func throughputBars(sc *ScenarioResult) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = sc.Name + ": output throughput"
	p.Y.Label.Text = "output tokens/s (model time)"
	var vals plotter.Values
	var names []string
	for _, r := range sc.Runs {
		if r.Failed != "" {
			continue
		}
		vals = append(vals, r.OutputTokensPerSec)
		names = append(names, strings.ReplaceAll(strategyLabel(r.Strategy), " ", "\n"))
	}
	if len(vals) == 0 {
		return p, nil
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, fmt.Errorf("throughput plot: %w", err)
	}
	bars.Color = strategyColors[string(scheduler.StrategyDefault)]
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(names...)
	p.Y.Min = 0
	return p, nil
}
