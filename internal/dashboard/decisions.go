package dashboard

import (
	"sync"
	"time"

	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// DefaultDecisions is the number of routing decisions [NewDecisions] keeps
// by default.
const DefaultDecisions = 50

// Decisions is a bounded ring of the most recent routing decisions. It
// implements [router.DecisionRecorder]; recording copies a few fields under
// a short lock and allocates nothing. It never sees prompts. Safe for
// concurrent use.
type Decisions struct {
	mu   sync.Mutex
	buf  []Decision
	next int
	n    int
}

var _ router.DecisionRecorder = (*Decisions)(nil)

// Decision is one recorded routing decision, as the dashboard shows it.
type Decision struct {
	// At is when the endpoint was picked.
	At time.Time `json:"at"`
	// Pool, Model, TargetModel and Endpoint name where the request went.
	Pool        string `json:"pool"`
	Model       string `json:"model"`
	TargetModel string `json:"targetModel"`
	Endpoint    string `json:"endpoint"`
	// Priority is the request's objective priority.
	Priority int `json:"priority"`
	// Retry marks a pick that replaced a failed endpoint.
	Retry bool `json:"retry"`
	// TraceID is the request's trace ID, "" when tracing is off.
	TraceID string `json:"traceID"`
	// TraceURL links the trace in a trace UI (tracing.uiURL with the trace
	// ID), "" without a UI or a trace.
	TraceURL string `json:"traceURL"`
	// Total is the picked endpoint's weighted score, the sum of the
	// scorers' contributions.
	Total float64 `json:"total"`
	// Candidates is how many endpoints were scored.
	Candidates int `json:"candidates"`
	// PrefixMatchBlocks of PrefixTotalBlocks prompt blocks were likely
	// cached on the endpoint.
	PrefixMatchBlocks int `json:"prefixMatchBlocks"`
	PrefixTotalBlocks int `json:"prefixTotalBlocks"`
	// Scorers explain the score, in [scheduler.ScorerNames] order.
	Scorers [scheduler.NumScorers]ScorerScore `json:"scorers"`
}

// ScorerScore is one scorer's part in a decision.
type ScorerScore struct {
	// Name is the scorer's name from [scheduler.ScorerNames].
	Name string `json:"name"`
	// Weight is the scorer's configured weight; 0 means disabled.
	Weight float64 `json:"weight"`
	// Score is the scorer's raw score for the picked endpoint, 0 to 1.
	Score float64 `json:"score"`
	// Contribution is Weight × Score, the scorer's share of the total.
	Contribution float64 `json:"contribution"`
}

// NewDecisions returns a ring keeping the last n decisions; n <= 0 means
// [DefaultDecisions].
func NewDecisions(n int) *Decisions {
	if n <= 0 {
		n = DefaultDecisions
	}
	return &Decisions{buf: make([]Decision, n)}
}

// RecordDecision implements [router.DecisionRecorder].
func (d *Decisions) RecordDecision(r router.DecisionRecord) {
	rec := Decision{
		At:                r.At,
		Pool:              r.Pool,
		Model:             r.Model,
		TargetModel:       r.TargetModel,
		Endpoint:          r.Endpoint,
		Priority:          r.Priority,
		Retry:             r.Retry,
		TraceID:           r.TraceID,
		Total:             finite(r.Result.Total),
		Candidates:        r.Result.Candidates,
		PrefixMatchBlocks: r.Result.PrefixMatchBlocks,
		PrefixTotalBlocks: r.Result.PrefixTotalBlocks,
	}
	for i := range rec.Scorers {
		w, s := finite(r.Weights[i]), finite(r.Result.Scores[i])
		rec.Scorers[i] = ScorerScore{Name: scheduler.ScorerNames[i], Weight: w, Score: s, Contribution: w * s}
	}
	d.mu.Lock()
	d.buf[d.next] = rec
	d.next = (d.next + 1) % len(d.buf)
	d.n = min(d.n+1, len(d.buf))
	d.mu.Unlock()
}

// Recent returns the recorded decisions, newest first, in a new slice.
func (d *Decisions) Recent() []Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Decision, 0, d.n)
	for i := 1; i <= d.n; i++ {
		out = append(out, d.buf[(d.next-i+len(d.buf))%len(d.buf)])
	}
	return out
}
