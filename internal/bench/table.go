package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as terminal tables: one per scenario, then
// the targets.
func WriteTable(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, sc := range rep.Scenarios {
		fmt.Fprintf(tw, "\n%s (%s, time scale %g)\n", sc.Name, sc.Kind, sc.TimeScale)
		fmt.Fprintln(tw, "strategy\tpoint\treq/s\tout tok/s\tTTFT p50\tp90\tp99\tengine p90\tTPOT p50\tp90\tE2E p90\tgoodput\thit %\tceiling %\tKV peak\terrors\tgw CPU s\tgw RSS MiB\t")
		for _, r := range sc.Runs {
			if r.Failed != "" {
				fmt.Fprintf(tw, "%s\t%g\tfailed: %s\t\n", r.Strategy, r.Point, oneLine(r.Failed))
				continue
			}
			cpu, rss := "—", "—"
			if r.Gateway != nil {
				cpu, rss = cpuSecondsCell(r), fmt.Sprintf("%.0f", r.Gateway.PeakRSSMiB)
			}
			ceiling := "—"
			if r.HitCeiling > 0 {
				ceiling = fmt.Sprintf("%.1f", 100*r.HitCeiling)
			}
			eng := "—"
			if r.EngineTTFT != nil {
				eng = fmt.Sprintf("%.1f", r.EngineTTFT.P90)
			}
			fmt.Fprintf(tw, "%s\t%g\t%.2f\t%.0f\t%.1f\t%.1f\t%.1f\t%s\t%.2f\t%.2f\t%.0f\t%.2f\t%.1f\t%s\t%.2f\t%s\t%s\t%s\t\n",
				r.Strategy, r.Point, r.RequestsPerSecond, r.OutputTokensPerSec,
				r.TTFT.P50, r.TTFT.P90, r.TTFT.P99, eng, r.TPOT.P50, r.TPOT.P90, r.E2E.P90,
				r.Goodput, 100*r.PrefixHitRate, ceiling, r.KVUsagePeak, errorSummary(r.Errors), cpu, rss)
		}
	}
	for _, sc := range rep.Scenarios {
		if sc.Workload.Type == WorkloadClasses {
			fmt.Fprintf(tw, "\n%s.\n", GoodputDefinition)
			break
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(tw, "\ntargets")
		fmt.Fprintln(tw, "scenario\ttarget\tvalue\tbaseline\tcompared\tlimit\tresult\t")
		for _, t := range rep.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t.Scenario, t.Target.Name,
				num(t.Value), baselineCell(t), num(t.Compared), limitText(t.Target), verdict(t))
		}
	}
	writePlanesTable(tw, rep)
	writePlaneLatencyTable(tw, rep)
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	writeSendLagWarning(w, rep, false)
	return nil
}

// errorSummary renders error counts as "status 429:3 timeout:1", or "0".
func errorSummary(errs map[string]int) string {
	if len(errs) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, errs[k])
	}
	return strings.Join(parts, " ")
}

// limitText renders a target's limit, e.g. "≤ 0.12× round-robin".
func limitText(t Target) string {
	op, v := "≥", 0.0
	if t.Max != nil {
		op, v = "≤", *t.Max
	} else if t.Min != nil {
		v = *t.Min
	}
	base := t.Baseline
	if t.BaselineScenario != "" {
		base += " in " + t.BaselineScenario
	}
	switch {
	case t.Baseline == "":
		return fmt.Sprintf("%s %g", op, v)
	case t.Diff:
		return fmt.Sprintf("%s %s %+g", op, base, v)
	}
	return fmt.Sprintf("%s %g× %s", op, v, base)
}

func baselineCell(t TargetResult) string {
	if t.Target.Baseline == "" {
		return "—"
	}
	return num(t.BaselineValue)
}

func verdict(t TargetResult) string {
	switch {
	case t.Missing != "":
		return "not measured (" + t.Missing + ")"
	case t.Met:
		return "met"
	}
	return "MISSED"
}

// num formats a number with precision that suits its size.
func num(v float64) string {
	switch a := abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// cpuSecondsCell renders a run's gateway CPU seconds; for an ext_proc arm
// whose Envoy stand-in ran as its own process, "picker + stand-in".
func cpuSecondsCell(r *RunResult) string {
	if r.DataPlane == nil {
		return fmt.Sprintf("%.2f", r.Gateway.CPUSeconds)
	}
	return fmt.Sprintf("%.2f + %.2f", r.Gateway.CPUSeconds, r.DataPlane.CPUSeconds)
}
