package dashboard

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

func record(i int) router.DecisionRecord {
	return router.DecisionRecord{
		At:          time.Unix(int64(i), 0),
		Pool:        "p",
		Model:       "alias",
		TargetModel: "base",
		Endpoint:    fmt.Sprintf("ep-%d", i),
		Weights:     [scheduler.NumScorers]float64{2, 1, 3, 1, 0},
		Result: scheduler.Result{
			Scores:     [scheduler.NumScorers]float64{0.5, 1, 0.25, 0, 0.9},
			Total:      2.75,
			Candidates: 4,
		},
	}
}

func TestDecisionsRing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		size     int
		recorded int
		wantEPs  []string
	}{
		{name: "empty", size: 3, recorded: 0, wantEPs: []string{}},
		{name: "partly full, newest first", size: 3, recorded: 2, wantEPs: []string{"ep-1", "ep-0"}},
		{name: "wrapped keeps the newest", size: 3, recorded: 7, wantEPs: []string{"ep-6", "ep-5", "ep-4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecisions(tc.size)
			for i := range tc.recorded {
				d.RecordDecision(record(i))
			}
			got := []string{}
			for _, r := range d.Recent() {
				got = append(got, r.Endpoint)
			}
			if diff := cmp.Diff(tc.wantEPs, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecisionContributions(t *testing.T) {
	t.Parallel()
	d := NewDecisions(0)
	rec := record(1)
	rec.Result.Scores[scheduler.ScorerInFlight] = math.NaN()
	d.RecordDecision(rec)
	got := d.Recent()[0]
	want := [scheduler.NumScorers]ScorerScore{
		{Name: "queue", Weight: 2, Score: 0.5, Contribution: 1},
		{Name: "kv-cache", Weight: 1, Score: 1, Contribution: 1},
		{Name: "prefix", Weight: 3, Score: 0.25, Contribution: 0.75},
		{Name: "lora", Weight: 1, Score: 0, Contribution: 0},
		{Name: "in-flight", Weight: 0, Score: 0, Contribution: 0},
	}
	if diff := cmp.Diff(want, got.Scorers); diff != "" {
		t.Errorf("scorers (-want +got):\n%s", diff)
	}
	if got.Total != 2.75 || got.Candidates != 4 || got.Model != "alias" || got.TargetModel != "base" {
		t.Errorf("decision = %+v", got)
	}
}

func TestDecisionsConcurrent(t *testing.T) {
	t.Parallel()
	d := NewDecisions(8)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				d.RecordDecision(record(w*1000 + i))
				_ = d.Recent()
			}
		})
	}
	wg.Wait()
	if n := len(d.Recent()); n != 8 {
		t.Errorf("kept %d decisions, want 8", n)
	}
}
