package bench

import "fmt"

// metrics maps a target metric name to its value in a run. Latencies are in
// ms of model time, rates per second, hit rates in percentage points.
var metrics = map[string]func(*RunResult) float64{
	"ttft_p50":        func(r *RunResult) float64 { return r.TTFT.P50 },
	"ttft_p90":        func(r *RunResult) float64 { return r.TTFT.P90 },
	"ttft_p99":        func(r *RunResult) float64 { return r.TTFT.P99 },
	"tpot_p90":        func(r *RunResult) float64 { return r.TPOT.P90 },
	"e2e_p50":         func(r *RunResult) float64 { return r.E2E.P50 },
	"e2e_p90":         func(r *RunResult) float64 { return r.E2E.P90 },
	"e2e_p99":         func(r *RunResult) float64 { return r.E2E.P99 },
	"requests_per_s":  func(r *RunResult) float64 { return r.RequestsPerSecond },
	"output_tokens_s": func(r *RunResult) float64 { return r.OutputTokensPerSec },
	"goodput":         func(r *RunResult) float64 { return r.Goodput },
	"hit_rate_pct":    func(r *RunResult) float64 { return 100 * r.PrefixHitRate },
	// hit_gap_pct is the ceiling minus the hit rate, in percentage points.
	"hit_gap_pct": func(r *RunResult) float64 { return 100 * (r.HitCeiling - r.PrefixHitRate) },
	// engine_ttft_p90 is TTFT as the replicas measured it: queueing and
	// prefill there, which routing decides, without the data plane's
	// latency.
	"engine_ttft_p90": func(r *RunResult) float64 {
		if r.EngineTTFT == nil {
			return 0
		}
		return r.EngineTTFT.P90
	},
}

// MetricNames lists the metrics a [Target] may name.
func MetricNames() []string {
	return []string{"ttft_p50", "ttft_p90", "ttft_p99", "tpot_p90", "e2e_p50", "e2e_p90", "e2e_p99",
		"requests_per_s", "output_tokens_s", "goodput", "hit_rate_pct", "hit_gap_pct", "engine_ttft_p90"}
}

// evaluateTargets checks every target of the suite against the report.
func evaluateTargets(s *Suite, rep *Report) []TargetResult {
	var out []TargetResult
	result := rep.scenario
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		sr := result(sc.Name)
		for _, t := range sc.Targets {
			tr := TargetResult{Scenario: sc.Name, Target: t}
			base := sr
			if t.BaselineScenario != "" {
				base = result(t.BaselineScenario)
			}
			switch {
			case sr == nil:
				tr.Missing = "scenario did not run"
			case base == nil:
				tr.Missing = "scenario " + t.BaselineScenario + " did not run"
			default:
				tr = evaluateTarget(sr, base, t, tr)
			}
			out = append(out, tr)
		}
	}
	return out
}

// scenario returns the result of the scenario called name, or nil when it
// did not run.
func (rep *Report) scenario(name string) *ScenarioResult {
	for _, r := range rep.Scenarios {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// evaluateTarget evaluates t on the runs of sr, its baseline on those of
// base (sr unless the target names another scenario).
func evaluateTarget(sr, base *ScenarioResult, t Target, tr TargetResult) TargetResult {
	value := metrics[t.Metric]
	if value == nil {
		value = func(r *RunResult) float64 { v, _ := classMetric(t.Metric, r); return v }
	}
	run := sr.findRun(t.Strategy, t.Point)
	if run == nil || run.Failed != "" || run.Completed == 0 {
		tr.Missing = fmt.Sprintf("no completed %s run", t.Strategy)
		return tr
	}
	tr.Value = value(run)
	tr.Compared = tr.Value
	if t.Baseline != "" {
		point := t.Point
		if base != sr {
			point = 0
		}
		b := base.findRun(t.Baseline, point)
		if b == nil || b.Failed != "" || b.Completed == 0 {
			tr.Missing = fmt.Sprintf("no completed %s run in %s", t.Baseline, base.Name)
			return tr
		}
		tr.BaselineValue = value(b)
		switch {
		case t.Diff:
			tr.Compared = tr.Value - tr.BaselineValue
		case tr.BaselineValue != 0:
			tr.Compared = tr.Value / tr.BaselineValue
		default:
			tr.Missing = fmt.Sprintf("the %s value is 0", t.Baseline)
			return tr
		}
	}
	switch {
	case t.Max != nil:
		tr.Met = tr.Compared <= *t.Max
	case t.Min != nil:
		tr.Met = tr.Compared >= *t.Min
	}
	return tr
}
