package bench

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
)

// PlaneLatency is the latency the ext_proc data plane adds to each request
// of an ext_proc arm on the way to its first token, as the Envoy stand-in
// measured it over the whole run, in real milliseconds (the suite's time
// scale multiplies them in the arm's model-time latencies): the decision
// round trip (last request message sent to the picker → its header
// response received; the picker's decision and two gRPC hops, with both
// processes' scheduling) and the mean delay a response chunk spends in the
// picker's response path (chunk sent to the picker → the picker's bytes
// covering it received), which the first token pays once more. The native
// proxy pays neither.
type PlaneLatency struct {
	DecisionRoundTripMs float64 `json:"decisionRoundTripMs"`
	Decisions           int64   `json:"decisions"`
	ResponseChunkMs     float64 `json:"responseChunkMs"`
	ResponseChunks      int64   `json:"responseChunks"`
}

// planeLatency returns the means of st, nil when it counted nothing.
func planeLatency(st envoystandin.Stats) *PlaneLatency {
	if st.Decisions == 0 && st.ResponseChunks == 0 {
		return nil
	}
	mean := func(total time.Duration, n int64) float64 {
		if n == 0 {
			return 0
		}
		return ms(total) / float64(n)
	}
	return &PlaneLatency{
		DecisionRoundTripMs: mean(st.DecisionLatencyTotal, st.Decisions),
		Decisions:           st.Decisions,
		ResponseChunkMs:     mean(st.ResponseChunkDelayTotal, st.ResponseChunks),
		ResponseChunks:      st.ResponseChunks,
	}
}

// planeLatencyIntro explains the data-plane latency lines.
const planeLatencyIntro = "Where an ext_proc arm's extra latency goes, as the Envoy stand-in measured it over the run " +
	"(means, real ms; the time scale multiplies them in model time): the decision round trip (last request message " +
	"sent to the picker → its header response received) and the delay of a response chunk through the picker " +
	"(chunk sent → the picker's bytes for it received). The first token pays both; the native proxy neither."

// planeLatencyRuns returns the runs of rep that carry a PlaneLatency, with
// their scenario names.
func planeLatencyRuns(rep *Report) (scenarios []string, runs []*RunResult) {
	for _, sr := range rep.Scenarios {
		for _, r := range sr.Runs {
			if r.PlaneLatency != nil {
				scenarios = append(scenarios, sr.Name)
				runs = append(runs, r)
			}
		}
	}
	return scenarios, runs
}

// writePlaneLatencyMarkdown writes the data-plane latency table, if any.
func writePlaneLatencyMarkdown(b *bufio.Writer, rep *Report) {
	names, runs := planeLatencyRuns(rep)
	if len(runs) == 0 {
		return
	}
	b.WriteString("## ext_proc data-plane latency\n\n" + planeLatencyIntro + "\n\n")
	b.WriteString("| Scenario | Arm | Point | Decision round trip ms | Response chunk ms |\n|---|---|---:|---:|---:|\n")
	for i, r := range runs {
		fmt.Fprintf(b, "| %s | %s | %g | %.3f | %.3f |\n", names[i], r.Strategy, r.Point,
			r.PlaneLatency.DecisionRoundTripMs, r.PlaneLatency.ResponseChunkMs)
	}
	b.WriteString("\n")
}

// writePlaneLatencyTable writes the data-plane latency lines to a terminal
// table, if any.
func writePlaneLatencyTable(tw io.Writer, rep *Report) {
	names, runs := planeLatencyRuns(rep)
	if len(runs) == 0 {
		return
	}
	fmt.Fprintln(tw, "\next_proc data plane at the stand-in (means, real ms: decision round trip, response chunk through the picker)")
	fmt.Fprintln(tw, "scenario\tarm\tpoint\tdecision ms\tchunk ms\t")
	for i, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%g\t%.3f\t%.3f\t\n", names[i], r.Strategy, r.Point,
			r.PlaneLatency.DecisionRoundTripMs, r.PlaneLatency.ResponseChunkMs)
	}
}
