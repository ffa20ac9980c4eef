package bench

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/infergate/infergate/internal/config"

	"github.com/infergate/infergate/internal/scheduler"
)

// ExtProcArmSuffix marks a strategy arm that runs through the gateway's
// ext_proc picker behind the Go Envoy stand-in instead of the native proxy:
// "default via ext_proc" is the default strategy through ext_proc, on the
// same fleet, requests and arrival times as the "default" arm of the same
// run, and in the same flow-control mode (see [gatewayArm]). It goes after
// a flow-control mode: "default@shed via ext_proc".
const ExtProcArmSuffix = " via ext_proc"

// planeStrategy splits an arm name into the strategy the gateway runs
// (with its "@mode", if any) and whether the arm goes through ext_proc.
func planeStrategy(name string) (strategy string, extProc bool) {
	return strings.CutSuffix(name, ExtProcArmSuffix)
}

// The data planes a run's gateway may serve through ([RunResult.Plane]).
const (
	// PlaneNative is the gateway's own OpenAI proxy.
	PlaneNative = "proxy"
	// PlaneExtProcStandIn is the gateway's ext_proc picker behind the Go
	// Envoy stand-in (plaintext).
	PlaneExtProcStandIn = "ext_proc"
)

// gatewayArm returns the strategy (with its "@mode") the gateway of arm
// runs and whether it runs through ext_proc. An ext_proc arm without a
// mode runs the native proxy's default flow-control mode (queue), not
// ext_proc's (shed), so that it differs from its native arm in the data
// plane alone.
func gatewayArm(arm string) (strategy string, extProc bool) {
	strategy, extProc = planeStrategy(arm)
	if _, mode := flowStrategy(strategy); extProc && mode == "" {
		strategy += "@" + config.FlowControl{}.ModeFor(config.FrontEndProxy)
	}
	return strategy, extProc
}

// MaxPlaneDeviation is how far an ext_proc arm's target value may be from
// the native proxy's, relative to it, for routing quality through ext_proc
// to count as the same (issue 13: within 5 %).
const MaxPlaneDeviation = 0.05

// PlaneComparison compares one target of a scenario between the native
// proxy and ext_proc: the target's compared value (the ratio to its
// baseline, or the metric itself when it has none) for its strategy, and
// the same for "<strategy> via ext_proc" against the same baseline run.
type PlaneComparison struct {
	Scenario string `json:"scenario"`
	Target   Target `json:"target"`
	// Native and ExtProc are the compared values of the two arms.
	Native  float64 `json:"native"`
	ExtProc float64 `json:"extProc"`
	// Ratio is ExtProc / Native; Within says |Ratio − 1| ≤ MaxPlaneDeviation.
	Ratio  float64 `json:"ratio"`
	Within bool    `json:"within"`
	// Basis, when set, is the metric compared instead of the target's
	// compared value: a gap to a ceiling or a difference to a baseline
	// (near 0 when both arms do well) has no meaningful ratio, so the
	// quantity it is taken from is compared (hit_gap_pct: the hit rate; a
	// Diff target: the metric itself).
	Basis string `json:"basis,omitempty"`
	// Missing says why the comparison could not be made.
	Missing string `json:"missing,omitempty"`
}

// addExtProcArms returns a copy of the suite in which every routing
// scenario also runs its strategies under test through ext_proc: for each
// target's strategy (the default strategy when the scenario has no target
// but runs it), "<strategy> via ext_proc" right after it, unless listed
// already.
func addExtProcArms(s *Suite) *Suite {
	c := *s
	c.Scenarios = slices.Clone(s.Scenarios)
	for i := range c.Scenarios {
		sc := &c.Scenarios[i]
		if sc.Kind != KindRouting {
			continue
		}
		var under []string
		for _, t := range sc.Targets {
			if !slices.Contains(under, t.Strategy) {
				under = append(under, t.Strategy)
			}
		}
		if len(under) == 0 && slices.Contains(sc.Strategies, string(scheduler.StrategyDefault)) {
			under = []string{string(scheduler.StrategyDefault)}
		}
		strategies := slices.Clone(sc.Strategies)
		for _, st := range under {
			arm := st + ExtProcArmSuffix
			if _, ext := planeStrategy(st); ext || slices.Contains(strategies, arm) {
				continue
			}
			j := slices.Index(strategies, st)
			strategies = slices.Insert(strategies, j+1, arm)
		}
		sc.Strategies = strategies
	}
	return &c
}

// gapBasis maps a gap metric to the metric it is the gap of, which the
// plane comparison uses instead.
var gapBasis = map[string]string{"hit_gap_pct": "hit_rate_pct"}

// comparePlanes evaluates every target whose strategy also ran through
// ext_proc a second time with the ext_proc arm in its place (the baseline
// stays the native run) and compares the two.
func comparePlanes(s *Suite, rep *Report) []PlaneComparison {
	var out []PlaneComparison
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		sr := rep.scenario(sc.Name)
		if sr == nil {
			continue
		}
		for _, t := range sc.Targets {
			if _, ext := planeStrategy(t.Strategy); ext || !slices.Contains(sc.Strategies, t.Strategy+ExtProcArmSuffix) {
				continue
			}
			basis := t
			if m, ok := gapBasis[t.Metric]; ok {
				basis.Metric, basis.Baseline, basis.Diff = m, "", false
			}
			if basis.Diff {
				basis.Baseline, basis.Diff = "", false
			}
			base := sr
			if t.BaselineScenario != "" {
				if base = rep.scenario(t.BaselineScenario); base == nil {
					continue
				}
			}
			native := evaluateTarget(sr, base, basis, TargetResult{Scenario: sc.Name, Target: basis})
			et := basis
			et.Strategy += ExtProcArmSuffix
			ext := evaluateTarget(sr, base, et, TargetResult{Scenario: sc.Name, Target: et})
			pc := PlaneComparison{Scenario: sc.Name, Target: t, Native: native.Compared, ExtProc: ext.Compared}
			if basis.Metric != t.Metric || basis.Baseline != t.Baseline {
				pc.Basis = basis.Metric
			}
			switch {
			case native.Missing != "":
				pc.Missing = native.Missing
			case ext.Missing != "":
				pc.Missing = ext.Missing
			case native.Compared == 0:
				pc.Missing = "the native value is 0"
			default:
				pc.Ratio = ext.Compared / native.Compared
				pc.Within = math.Abs(pc.Ratio-1) <= MaxPlaneDeviation
			}
			out = append(out, pc)
		}
		out = append(out, compareEngineTTFT(sc, sr)...)
	}
	return out
}

// engineTTFTName names the routing-only row of a scenario's comparison.
const engineTTFTName = "replica-side TTFT p90 (routing only, no data-plane latency)"

// compareEngineTTFT compares, for each strategy of sc that also ran
// through ext_proc, the TTFT p90 the replicas measured: what routing
// decides (queueing and prefill at the replicas), without the latency the
// data plane adds, which the client-side latency targets include and the
// suite's time scale magnifies. It is not a target of the suite; Target
// holds its name and metric only.
func compareEngineTTFT(sc *Scenario, sr *ScenarioResult) []PlaneComparison {
	var out []PlaneComparison
	for _, st := range sc.Strategies {
		if _, ext := planeStrategy(st); ext || !slices.Contains(sc.Strategies, st+ExtProcArmSuffix) {
			continue
		}
		native, ext := sr.findRun(st, 0), sr.findRun(st+ExtProcArmSuffix, 0)
		if native == nil || ext == nil || native.EngineTTFT == nil || ext.EngineTTFT == nil {
			continue
		}
		t := Target{Name: engineTTFTName, Metric: "engine_ttft_p90", Strategy: st}
		pc := PlaneComparison{Scenario: sc.Name, Target: t, Native: native.EngineTTFT.P90, ExtProc: ext.EngineTTFT.P90}
		if pc.Native == 0 {
			pc.Missing = "the native value is 0"
		} else {
			pc.Ratio = pc.ExtProc / pc.Native
			pc.Within = math.Abs(pc.Ratio-1) <= MaxPlaneDeviation
		}
		out = append(out, pc)
	}
	return out
}

// planeCells are the cells of a comparison's row after the scenario and
// the target: native, ext_proc, ratio, verdict.
func planeCells(pc PlaneComparison) [4]string {
	if pc.Missing != "" {
		return [4]string{num(pc.Native), num(pc.ExtProc), "—", "not measured (" + pc.Missing + ")"}
	}
	v := "no"
	if pc.Within {
		v = "yes"
	}
	return [4]string{num(pc.Native), num(pc.ExtProc), fmt.Sprintf("%.3f", pc.Ratio), v}
}

// planeTargetName is a comparison's target name, with the metric compared
// instead when it has a basis.
func planeTargetName(pc PlaneComparison) string {
	if pc.Basis == "" {
		return pc.Target.Name
	}
	return pc.Target.Name + " (compared on " + pc.Basis + ")"
}

// planesIntro explains the comparison table.
const planesIntro = "Each target of a strategy that also ran as `<strategy> via ext_proc` (the gateway's ext_proc picker " +
	"behind the Go Envoy stand-in, same fleet, requests and arrival times, in this run), evaluated for both arms " +
	"against the same native baseline run: the compared value (the ratio to the baseline, or the metric when the " +
	"target has none; for a gap or a difference, the metric it is taken from), ext_proc / native, and whether that " +
	"is within ±5 %."

// writePlanesMarkdown writes the plane comparison section, if any.
func writePlanesMarkdown(b *bufio.Writer, rep *Report) {
	if len(rep.PlaneComparisons) == 0 {
		return
	}
	b.WriteString("## Routing quality through ext_proc\n\n" + planesIntro + "\n\n")
	b.WriteString("| Scenario | Target | Native | ext_proc | ext_proc / native | Within 5 % |\n|---|---|---:|---:|---:|---|\n")
	for _, pc := range rep.PlaneComparisons {
		c := planeCells(pc)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", pc.Scenario, planeTargetName(pc), c[0], c[1], c[2], c[3])
	}
	b.WriteString("\n")
}

// writePlanesTable writes the plane comparison to a terminal table, if any.
func writePlanesTable(tw io.Writer, rep *Report) {
	if len(rep.PlaneComparisons) == 0 {
		return
	}
	fmt.Fprintln(tw, "\next_proc vs native proxy (ext_proc / native of each target's compared value)")
	fmt.Fprintln(tw, "scenario\ttarget\tnative\text_proc\tratio\twithin 5 %\t")
	for _, pc := range rep.PlaneComparisons {
		c := planeCells(pc)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", pc.Scenario, planeTargetName(pc), c[0], c[1], c[2], c[3])
	}
}

// strategyColor is the colour of an arm in the plots: its strategy's,
// whatever its flow-control mode and plane.
func strategyColor(arm string) color.Color {
	gw, _ := planeStrategy(arm)
	base, _ := flowStrategy(gw)
	if c, ok := strategyColors[base]; ok {
		return c
	}
	return color.Black
}

// armDashes is the line style of an arm: dashed through ext_proc.
func armDashes(arm string) []vg.Length {
	if _, ext := planeStrategy(arm); ext {
		return []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return nil
}
