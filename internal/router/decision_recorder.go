package router

import (
	"time"

	"github.com/infergate/infergate/internal/scheduler"
)

// DecisionRecorder receives a summary of every successful pick, for live
// views such as the built-in dashboard. RecordDecision is called on the
// request path after the scheduler has picked: it must be fast, must not
// block and must be safe for concurrent use. The record holds no prompt
// bytes; it may be kept.
type DecisionRecorder interface {
	RecordDecision(DecisionRecord)
}

// DecisionRecord describes one pick: which endpoint got a request and why.
type DecisionRecord struct {
	// At is when the pick was made (the router's clock).
	At time.Time
	// Pool is the name of the pool the request went to.
	Pool string
	// Model is the model the client asked for; TargetModel is the one the
	// replica receives.
	Model, TargetModel string
	// Priority is the request's objective priority.
	Priority int
	// Endpoint is the picked endpoint's name.
	Endpoint string
	// Retry is true when the pick replaced an endpoint that failed before
	// the first byte.
	Retry bool
	// TraceID is the request's trace ID, "" when tracing is off.
	TraceID string
	// Weights are the scheduler's scorer weights, indexed like
	// [scheduler.ScorerNames]; a scorer's contribution to Result.Total is
	// Weights[i] * Result.Scores[i].
	Weights [scheduler.NumScorers]float64
	// Result is the scheduler's explanation of the pick. Result.Endpoint is
	// the live endpoint; recorders should copy what they need from it.
	Result scheduler.Result
}

// scorerWeights returns w indexed like [scheduler.ScorerNames].
func scorerWeights(w scheduler.Weights) [scheduler.NumScorers]float64 {
	var out [scheduler.NumScorers]float64
	out[scheduler.ScorerQueue] = w.Queue
	out[scheduler.ScorerKVCache] = w.KVCache
	out[scheduler.ScorerPrefix] = w.Prefix
	out[scheduler.ScorerLoRA] = w.LoRA
	out[scheduler.ScorerInFlight] = w.InFlight
	return out
}

// record hands a successful pick of d to the recorder, when there is one.
func (r *Router) record(d *Decision, now time.Time, retry bool) {
	if r.decisions == nil {
		return
	}
	r.decisions.RecordDecision(DecisionRecord{
		At:          now,
		Pool:        d.Pool.Name(),
		Model:       d.Model,
		TargetModel: d.TargetModel,
		Priority:    d.Priority,
		Endpoint:    d.Endpoint.Name(),
		Retry:       retry,
		TraceID:     d.TraceID,
		Weights:     scorerWeights(d.sched.Config().Weights),
		Result:      d.Result,
	})
}
