package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ChaosReport is the outcome of a chaos run.
type ChaosReport struct {
	// Duration is the load's length.
	Duration time.Duration
	// Requests counts the requests that ended during the run; Completed
	// those that got 200 and a stream ending with [DONE].
	Requests, Completed int
	// FailedBeforeFirstByte counts requests without a 200 answer
	// (transport error or another status). Want 0.
	FailedBeforeFirstByte int
	// Gateway5xx counts 5xx answers to clients. Want 0.
	Gateway5xx int
	// StreamsCut counts streams that did not end with [DONE]; of them,
	// CutWithoutEvent ended without the error event (want 0) and
	// CutElsewhere were not on the killed replica within 5 s of a kill
	// (want 0).
	StreamsCut, CutWithoutEvent, CutElsewhere int
	// CutByPod counts the cut streams by the replica that served them.
	CutByPod map[string]int
	// HostileRequests counts the hostile clients' requests and
	// connections that ended (chaoshostile.go).
	HostileRequests int
	// Faults lists, per fault, how long the gateway kept sending new
	// requests to the sick replica and how long it took to use it again.
	Faults []ChaosFault
	// RSS and goroutines of the gateway: the maximum over the second and
	// the last third of the run; the last must stay within 1.1 times the
	// second.
	RSSSecondThird, RSSLastThird               int64
	GoroutinesSecondThird, GoroutinesLastThird float64
	// Pass is true when every check held.
	Pass bool
}

// ChaosFault is one fault of the schedule.
type ChaosFault struct {
	// Pod is the replica, Kind "kill" or "stop".
	Pod, Kind string
	// At is the fault's offset from the start of the run.
	At time.Duration
	// Avoid is from the fault to the last new request routed to the
	// replica while it was sick (0: none after the fault); sampled every
	// 250 ms.
	Avoid time.Duration
	// Reuse is from the replica's return (restart or SIGCONT) to its first
	// new request; -1 when none came before the run ended.
	Reuse time.Duration
}

// growthBound is the allowed growth of the last third's maximum over the
// second third's.
const growthBound = 1.1

// buildChaosReport computes the report from the recordings.
func buildChaosReport(d time.Duration, recs []chaosRecord, sampler *chaosSampler, events []chaosEvent) *ChaosReport {
	rep := &ChaosReport{Duration: d, Requests: len(recs), CutByPod: map[string]int{}}
	for _, r := range recs {
		switch r.Outcome {
		case outcomeDone:
			rep.Completed++
		case outcomeNoFirstByte, outcomeStatus:
			rep.FailedBeforeFirstByte++
			if r.Status >= 500 {
				rep.Gateway5xx++
			}
		case outcomeErrorEvent, outcomeCut:
			rep.StreamsCut++
			rep.CutByPod[r.Pod]++
			if r.Outcome == outcomeCut {
				rep.CutWithoutEvent++
			}
			if r.Pod != chaosKilled || !nearKill(r.End, events) {
				rep.CutElsewhere++
			}
		}
	}
	samples := sampler.all()
	rep.Faults = faultTimings(samples, events)
	if n := len(samples); n >= 3 {
		second, last := samples[n/3:2*n/3], samples[2*n/3:]
		for _, s := range second {
			rep.RSSSecondThird = max(rep.RSSSecondThird, s.RSS)
			rep.GoroutinesSecondThird = max(rep.GoroutinesSecondThird, s.Goroutines)
		}
		for _, s := range last {
			rep.RSSLastThird = max(rep.RSSLastThird, s.RSS)
			rep.GoroutinesLastThird = max(rep.GoroutinesLastThird, s.Goroutines)
		}
	}
	rep.Pass = rep.FailedBeforeFirstByte == 0 && rep.Gateway5xx == 0 && rep.CutWithoutEvent == 0 && rep.CutElsewhere == 0 &&
		rep.Completed > 0 && len(samples) >= 3 &&
		float64(rep.RSSLastThird) <= growthBound*float64(rep.RSSSecondThird) &&
		rep.GoroutinesLastThird <= growthBound*rep.GoroutinesSecondThird
	return rep
}

// nearKill reports whether t is within 5 s after a kill.
func nearKill(t time.Time, events []chaosEvent) bool {
	for _, e := range events {
		if e.What == "kill" && !t.Before(e.At) && t.Sub(e.At) <= 5*time.Second {
			return true
		}
	}
	return false
}

// faultTimings pairs each fault with its return and reads, from the
// sampled pick counts, when the replica stopped and started getting new
// requests.
func faultTimings(samples []chaosSample, events []chaosEvent) []ChaosFault {
	var out []ChaosFault
	var start time.Time
	if len(samples) > 0 {
		start = samples[0].At
	}
	for i, e := range events {
		if e.What != "kill" && e.What != "stop" {
			continue
		}
		var back time.Time
		for _, f := range events[i+1:] {
			if f.Pod == e.Pod && (f.What == "restart" || f.What == "cont") {
				back = f.At
				break
			}
		}
		if back.IsZero() {
			continue
		}
		f := ChaosFault{Pod: e.Pod, Kind: e.What, At: e.At.Sub(start), Reuse: -1}
		for j := 1; j < len(samples); j++ {
			s, prev := samples[j], samples[j-1]
			grew := s.Picks[e.Pod] > prev.Picks[e.Pod]
			switch {
			case grew && s.At.After(e.At) && s.At.Before(back):
				f.Avoid = s.At.Sub(e.At)
			case grew && !s.At.Before(back) && f.Reuse < 0:
				f.Reuse = s.At.Sub(back)
			}
		}
		out = append(out, f)
	}
	return out
}

// WriteMarkdown writes the report as a Markdown table.
func (r *ChaosReport) WriteMarkdown(w io.Writer) error {
	ok := func(b bool) string {
		if b {
			return "ok"
		}
		return "FAIL"
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Chaos suite, %v\n\n", r.Duration)
	p("%d requests ended, %d completed with [DONE]; %d hostile requests (from 127.0.0.2-5) ran next to them.\n\n",
		r.Requests, r.Completed, r.HostileRequests)
	p("| check | value | bound | |\n|---|---|---|---|\n")
	p("| requests failed before the first byte | %d | 0 | %s |\n", r.FailedBeforeFirstByte, ok(r.FailedBeforeFirstByte == 0))
	p("| 5xx answers to clients | %d | 0 | %s |\n", r.Gateway5xx, ok(r.Gateway5xx == 0))
	p("| streams cut mid-way | %d | only on the killed replica | %s |\n", r.StreamsCut, ok(r.CutElsewhere == 0))
	p("| … by replica | %v | | |\n", r.CutByPod)
	p("| cut streams without the error event | %d | 0 | %s |\n", r.CutWithoutEvent, ok(r.CutWithoutEvent == 0))
	p("| gateway RSS, max of last third | %.1f MiB | ≤ %.1f MiB (1.1 × second third) | %s |\n",
		mib(r.RSSLastThird), growthBound*mib(r.RSSSecondThird), ok(float64(r.RSSLastThird) <= growthBound*float64(r.RSSSecondThird)))
	p("| gateway goroutines, max of last third | %.0f | ≤ %.0f (1.1 × second third) | %s |\n",
		r.GoroutinesLastThird, growthBound*r.GoroutinesSecondThird, ok(r.GoroutinesLastThird <= growthBound*r.GoroutinesSecondThird))
	p("\n| fault | at | last new request to it after the fault | first new request after its return |\n|---|---|---|---|\n")
	for _, f := range r.Faults {
		reuse := "none before the end"
		if f.Reuse >= 0 {
			reuse = f.Reuse.Round(time.Millisecond).String()
		}
		p("| %s %s | %v | %v | %s |\n", f.Kind, f.Pod, f.At.Round(time.Second), f.Avoid.Round(time.Millisecond), reuse)
	}
	_, err := fmt.Fprintf(w, "\nResult: %s\n", map[bool]string{true: "PASS", false: "FAIL"}[r.Pass])
	return err
}

// WriteChaosReport writes report.md into dir.
func WriteChaosReport(dir string, r *ChaosReport) error {
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return fmt.Errorf("write chaos report: %w", err)
	}
	if err := r.WriteMarkdown(f); err != nil {
		f.Close()
		return fmt.Errorf("write chaos report: %w", err)
	}
	return f.Close()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
