package bench

import (
	"strings"
	"testing"
	"time"
)

func TestBuildChaosReport(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	events := []chaosEvent{
		{At: at(1), Pod: "sim-0", What: "kill"}, {At: at(4), Pod: "sim-0", What: "restart"},
		{At: at(5), Pod: "sim-1", What: "stop"}, {At: at(10), Pod: "sim-1", What: "cont"},
	}
	recs := []chaosRecord{
		{Outcome: outcomeDone, Pod: "sim-2"},
		{Outcome: outcomeErrorEvent, Pod: "sim-0", End: at(1.1)}, // cut by the kill, with the event
		{Outcome: outcomeDone, Pod: "sim-1"},
	}
	s := &chaosSampler{}
	picks := []map[string]float64{ // every second from t0
		{"sim-0": 1, "sim-1": 1}, {"sim-0": 2, "sim-1": 2}, {"sim-0": 3, "sim-1": 3}, // sim-0 picked just after its kill (2 s)
		{"sim-0": 3, "sim-1": 4}, {"sim-0": 3, "sim-1": 5}, {"sim-0": 3, "sim-1": 5}, // sim-1 picked 1 s after its stop (6 s)
		{"sim-0": 4, "sim-1": 6}, {"sim-0": 4, "sim-1": 6}, {"sim-0": 4, "sim-1": 6}, // sim-0 back 2 s after its restart
		{"sim-0": 4, "sim-1": 6}, {"sim-0": 4, "sim-1": 6}, {"sim-0": 4, "sim-1": 7}, // sim-1 back 1 s after its SIGCONT
	}
	for i, p := range picks {
		s.samples = append(s.samples, chaosSample{At: at(float64(i)), Picks: p, RSS: 100 << 20, Goroutines: 50})
	}
	rep := buildChaosReport(time.Minute, recs, s, events)
	if !rep.Pass || rep.StreamsCut != 1 || rep.Completed != 2 {
		t.Fatalf("report %+v; want a pass with one cut stream and two completed", rep)
	}
	want := []ChaosFault{
		{Pod: "sim-0", Kind: "kill", At: time.Second, Avoid: time.Second, Reuse: 2 * time.Second},
		{Pod: "sim-1", Kind: "stop", At: 5 * time.Second, Avoid: time.Second, Reuse: time.Second},
	}
	if len(rep.Faults) != 2 || rep.Faults[0] != want[0] || rep.Faults[1] != want[1] {
		t.Errorf("faults %+v, want %+v", rep.Faults, want)
	}

	// Each failed check fails the run.
	for name, mutate := range map[string]func([]chaosRecord, []chaosSample) []chaosRecord{
		"503 to a client": func(r []chaosRecord, _ []chaosSample) []chaosRecord {
			return append(r, chaosRecord{Outcome: outcomeStatus, Status: 503})
		},
		"no first byte": func(r []chaosRecord, _ []chaosSample) []chaosRecord {
			return append(r, chaosRecord{Outcome: outcomeNoFirstByte})
		},
		"silent cut": func(r []chaosRecord, _ []chaosSample) []chaosRecord {
			return append(r, chaosRecord{Outcome: outcomeCut, Pod: "sim-0", End: at(1.2)})
		},
		"cut on a live replica": func(r []chaosRecord, _ []chaosSample) []chaosRecord {
			return append(r, chaosRecord{Outcome: outcomeErrorEvent, Pod: "sim-3", End: at(1.2)})
		},
		"goroutine growth": func(r []chaosRecord, smp []chaosSample) []chaosRecord {
			smp[len(smp)-1].Goroutines = 56
			return r
		},
	} {
		smp := append([]chaosSample(nil), s.samples...)
		bad := mutate(append([]chaosRecord(nil), recs...), smp)
		if rep := buildChaosReport(time.Minute, bad, &chaosSampler{samples: smp}, events); rep.Pass {
			t.Errorf("%s: the run passed", name)
		}
	}
	var b strings.Builder
	if err := rep.WriteMarkdown(&b); err != nil || !strings.Contains(b.String(), "Result: PASS") {
		t.Errorf("markdown: %v\n%s", err, b.String())
	}
}
