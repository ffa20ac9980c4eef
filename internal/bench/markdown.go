package bench

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as a Markdown summary: how it was run,
// the calibration, one table per scenario, the targets and the plots.
func WriteMarkdown(w io.Writer, rep *Report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# infergate bench: %s\n\n", rep.Suite)
	if rep.Description != "" {
		fmt.Fprintf(b, "%s\n\n", strings.TrimSpace(rep.Description))
	}
	m := rep.Machine
	fmt.Fprintf(b, "- Command: `%s`\n", rep.Command)
	fmt.Fprintf(b, "- Started %s, took %.0f s of wall time\n", rep.StartedAt.Format("2006-01-02 15:04 UTC"), rep.WallSeconds)
	fmt.Fprintf(b, "- Machine: %s, %d CPUs, %s, kernel %s, %s; load average at start %s\n",
		m.CPU, m.CPUs, m.OS, m.Kernel, m.GoVersion, m.LoadAverage)
	fmt.Fprintf(b, "- Seed %d; SLO for goodput: TTFT ≤ %s and TPOT ≤ %s\n", rep.Seed, rep.SLO.TTFT.Duration, rep.SLO.TPOT.Duration)
	fmt.Fprintf(b, "- Gateway: %s", rep.GatewayMode)
	if rep.GatewayMode == "process" {
		b.WriteString(" (`infergate serve` as a child process; CPU seconds and peak RSS from /proc)")
	} else {
		b.WriteString(" (CPU and RSS not measured)")
	}
	b.WriteString("\n\n")
	external := strings.HasPrefix(rep.GatewayMode, "external")
	if external {
		b.WriteString("## Time\n\nThe workloads ran against an external endpoint, in wall time (time scale 1).\n\n")
	} else {
		fmt.Fprintf(b, "## Time scaling\n\nRouting scenarios run the simulated replicas %g× faster than real time (unless a scenario says otherwise). "+
			"Every time-based setting of the gateway is divided by the same factor (scrape interval, scrape timeout, "+
			"staleness, model-list interval, upstream connect/first-byte/idle timeouts), so in model time the gateway "+
			"sees the replicas as often as it would in production. Latencies and rates are reported in model time: "+
			"wall-clock measurements × %g. The gateway's own wall-clock cost is therefore magnified %g× in these "+
			"numbers (a conservative bias against the gateway). Overhead scenarios run at scale 1, in wall time.\n\n",
			rep.TimeScale, rep.TimeScale, rep.TimeScale)
	}
	if c := rep.Calibration; c != nil {
		fmt.Fprintf(b, "## Simulator calibration (one replica, profile %s)\n\n", c.Profile)
		b.WriteString("| Load | Metric | Simulated | Published | Source |\n|---|---|---:|---|---|\n")
		for _, r := range c.Rows {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", r.Load, r.Metric, num(r.Simulated), r.Published, r.Source)
		}
		b.WriteString("\nThe simulator is not tuned to these figures; they show how far its timing model is from a real engine.\n\n")
	}
	for _, sc := range rep.Scenarios {
		writeScenarioMarkdown(b, sc, external)
	}
	if len(rep.Targets) > 0 {
		b.WriteString("## Targets\n\n| Scenario | Target | Value | Baseline | Compared | Limit | Result |\n|---|---|---:|---:|---:|---|---|\n")
		for _, t := range rep.Targets {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", t.Scenario, t.Target.Name,
				num(t.Value), baselineCell(t), num(t.Compared), limitText(t.Target), verdict(t))
		}
		b.WriteString("\n")
	}
	writePlanesMarkdown(b, rep)
	writePlaneLatencyMarkdown(b, rep)
	writeSendLagWarning(b, rep, true)
	if len(rep.Plots) > 0 {
		b.WriteString("## Plots\n\n")
		for _, p := range rep.Plots {
			fmt.Fprintf(b, "![%s](%s)\n\n", strings.TrimSuffix(p, ".png"), p)
		}
	}
	return b.Flush()
}

func writeScenarioMarkdown(b *bufio.Writer, sc *ScenarioResult, external bool) {
	fmt.Fprintf(b, "## %s\n\n", sc.Name)
	if sc.Description != "" {
		fmt.Fprintf(b, "%s\n\n", strings.TrimSpace(sc.Description))
	}
	f := sc.Fleet
	if external {
		b.WriteString("Sent to the external target (the suite's fleet is not used)")
	} else {
		fmt.Fprintf(b, "Fleet: %d × %s", f.Replicas, f.Profile)
		if f.NumGPUBlocks > 0 {
			fmt.Fprintf(b, ", %d KV blocks (%d tokens) each", f.NumGPUBlocks, f.NumGPUBlocks*16)
		}
		if f.Adapters > 0 {
			fmt.Fprintf(b, ", %d adapters", f.Adapters)
		}
	}
	fmt.Fprintf(b, ". Workload: %s. Arrival: %s. Time scale %g", workloadText(sc.Workload), arrivalText(sc.Arrival), sc.TimeScale)
	if sc.Pinned {
		b.WriteString("; gateway pinned to its own CPU, load generator and replicas to the other")
	}
	b.WriteString(".\n\n")
	if sc.Kind == KindOverhead {
		b.WriteString("| Strategy | Concurrency | req/s | TTFT p50 | p90 | p99 | E2E p50 | p90 | p99 | errors | gateway CPU ms/req | RSS MiB |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
		for _, r := range sc.Runs {
			if r.Failed != "" {
				fmt.Fprintf(b, "| %s | %g | failed: %s |||||||||\n", r.Strategy, r.Point, oneLine(r.Failed))
				continue
			}
			cpu, rss := "—", "—"
			if r.Gateway != nil {
				cpu, rss = fmt.Sprintf("%.3f", r.Gateway.CPUMsPerRequest), fmt.Sprintf("%.0f", r.Gateway.PeakRSSMiB)
			}
			fmt.Fprintf(b, "| %s | %g | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s |\n",
				strategyLabel(r.Strategy), r.Point, r.RequestsPerSecond, r.TTFT.P50, r.TTFT.P90, r.TTFT.P99,
				r.E2E.P50, r.E2E.P90, r.E2E.P99, errorSummary(r.Errors), cpu, rss)
		}
		b.WriteString("\nLatencies in ms of wall time.\n\n")
		return
	}
	for _, r := range sc.Runs {
		if r.DataPlane != nil {
			b.WriteString("An ext_proc arm's gateway CPU reads picker + Envoy stand-in (its own process).\n\n")
			break
		}
	}
	b.WriteString("| Strategy | Rate | req/s | out tok/s | TTFT p50 | p90 | p99 | TPOT p50 | p90 | ITL p90 | E2E p90 | goodput | prefix hit % (ceiling) | KV mean / peak | errors | gateway CPU s | RSS MiB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
	for _, r := range sc.Runs {
		if r.Failed != "" {
			fmt.Fprintf(b, "| %s | %g | failed: %s ||||||||||||||\n", r.Strategy, r.Point, oneLine(r.Failed))
			continue
		}
		cpu, rss := "—", "—"
		if r.Gateway != nil {
			cpu, rss = cpuSecondsCell(r), fmt.Sprintf("%.0f", r.Gateway.PeakRSSMiB)
		}
		hit := fmt.Sprintf("%.1f", 100*r.PrefixHitRate)
		if r.HitCeiling > 0 {
			hit += fmt.Sprintf(" (%.1f)", 100*r.HitCeiling)
		}
		fmt.Fprintf(b, "| %s | %g | %.2f | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.0f | %.2f | %s | %.2f / %.2f | %s | %s | %s |\n",
			strategyLabel(r.Strategy), r.Point, r.RequestsPerSecond, r.OutputTokensPerSec,
			r.TTFT.P50, r.TTFT.P90, r.TTFT.P99, r.TPOT.P50, r.TPOT.P90, r.ITL.P90, r.E2E.P90,
			r.Goodput, hit, r.KVUsageMean, r.KVUsagePeak, errorSummary(r.Errors), cpu, rss)
	}
	b.WriteString("\nLatencies in ms of model time; rates per second of model time. Prefix hit rate is per prompt token " +
		"(the simulators' hits ÷ queries); the ceiling is the rate when only each group's first request misses.\n\n")
	writeClassesMarkdown(b, sc)
}

// writeClassesMarkdown writes the per-class results of a classes workload.
func writeClassesMarkdown(b *bufio.Writer, sc *ScenarioResult) {
	if sc.Workload.Type != WorkloadClasses {
		return
	}
	b.WriteString("Per request class. " + GoodputDefinition + ".\n\n")
	for _, r := range sc.Runs {
		if r.Failed == "" {
			fmt.Fprintf(b, "- %s: goodput %.2f/s over the %.1f s arrival window, %.2f per run s (run %.1f s)\n",
				strategyLabel(r.Strategy), r.Goodput, r.ArrivalWindowSeconds, r.GoodputPerRunSecond, r.DurationSeconds)
		}
	}
	b.WriteString("\n")
	b.WriteString("| Strategy | Class | SLO | requests | completed | rejected | within SLO | TTFT p50 | p90 | p99 | gateway queue wait p90 / p99 | TTFT from admission p90 | goodput |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range sc.Runs {
		if r.Failed != "" {
			continue
		}
		for _, k := range sc.Workload.Classes.Mix {
			c := r.Classes[k.Name]
			if c == nil {
				continue
			}
			slo := "—"
			if k.SLO.Duration > 0 {
				slo = k.SLO.Duration.String()
			}
			fmt.Fprintf(b, "| %s | %s | %s | %d | %d | %d | %d | %.0f | %.0f | %.0f | %.0f / %.0f | %.0f | %.2f |\n",
				strategyLabel(r.Strategy), k.Name, slo, c.Requests, c.Completed, c.Rejected, c.MetSLO,
				c.TTFT.P50, c.TTFT.P90, c.TTFT.P99, c.QueueWait.P90, c.QueueWait.P99, c.AdmittedTTFT.P90, c.Goodput)
		}
	}
	b.WriteString("\n")
}

// workloadText describes a workload in one phrase.
func workloadText(w Workload) string {
	switch w.Type {
	case WorkloadSharedPrefix:
		s := w.SharedPrefix
		return fmt.Sprintf("shared prefix, %d groups × %d prompts, %d-token system prompt, %d-token question, %d output tokens",
			s.Groups, s.PromptsPerGroup, s.SystemPromptTokens, s.QuestionTokens, s.OutputTokens)
	case WorkloadShareGPT:
		g := w.ShareGPT
		return fmt.Sprintf("%d ShareGPT-like chats (log-normal lengths: input median %d σ %.1f, output median %d σ %.1f)",
			w.Requests, g.InputMedian, g.InputSigma, g.OutputMedian, g.OutputSigma)
	case WorkloadLoRA:
		return fmt.Sprintf("%d chats over LoRA adapters (Zipf s=%.2f), %d in / %d out tokens", w.Requests, w.LoRA.ZipfS, w.LoRA.InputTokens, w.LoRA.OutputTokens)
	case WorkloadLongPrompt:
		return fmt.Sprintf("%d chats with %d KB prompts, %d output tokens", w.Requests, w.LongPrompt.Bytes/1000, w.LongPrompt.OutputTokens)
	case WorkloadFixed:
		return fmt.Sprintf("%d chats, %d in / %d out tokens", w.Requests, w.Fixed.InputTokens, w.Fixed.OutputTokens)
	case WorkloadClasses:
		var mix []string
		for _, k := range w.Classes.Mix {
			mix = append(mix, fmt.Sprintf("%s %g", k.Name, k.Share))
		}
		return fmt.Sprintf("%d chats, %d in / %d out tokens, classes by share: %s", w.Requests,
			w.Classes.InputTokens, w.Classes.OutputTokens, strings.Join(mix, ", "))
	}
	return w.Type
}

// arrivalText describes an arrival process in one phrase.
func arrivalText(a Arrival) string {
	var s string
	switch a.Type {
	case ArrivalConcurrency:
		s = fmt.Sprintf("%d requests in flight", a.Concurrency)
	case ArrivalGamma:
		s = fmt.Sprintf("gamma (burstiness %g) at %g req/s", a.Burstiness, a.Rate)
	default:
		s = fmt.Sprintf("%s at %g req/s", a.Type, a.Rate)
	}
	if len(a.Sweep) > 0 {
		s = fmt.Sprintf("%s, swept over %v", strings.Fields(s)[0], a.Sweep)
	}
	return s
}
