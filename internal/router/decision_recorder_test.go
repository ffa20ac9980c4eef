package router

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/infergate/infergate/internal/scheduler"
)

// recorded collects decision records.
type recorded struct {
	mu   sync.Mutex
	recs []DecisionRecord
}

func (r *recorded) RecordDecision(d DecisionRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, d)
}

func TestDecisionRecorder(t *testing.T) {
	at := time.Unix(1000, 0)
	st := newStore("main", [][]string{{"base"}, {"base"}})
	cfg := scheduler.DefaultConfig()
	rec := &recorded{}
	r := New(Options{
		Catalog: Catalog{
			Pools:      []Pool{{Store: st, Scheduler: scheduler.New(cfg, nil)}},
			Models:     []Model{{Name: "alias", Objective: "gold", Targets: []Target{{Model: "base"}}}},
			Objectives: map[string]int{"gold": 7},
		},
		Now:       func() time.Time { return at },
		Decisions: rec,
	})

	d, err := r.Route(Input{Model: "alias", Prompt: []byte("a secret prompt that must not be recorded")})
	if err != nil {
		t.Fatal(err)
	}
	first := d.Endpoint.Name()
	firstResult := d.Result
	if err := r.Retry(d, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Route(Input{Model: "missing"}); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("unknown model: err = %v", err)
	}

	weights := [scheduler.NumScorers]float64{
		scheduler.ScorerQueue:    cfg.Weights.Queue,
		scheduler.ScorerKVCache:  cfg.Weights.KVCache,
		scheduler.ScorerPrefix:   cfg.Weights.Prefix,
		scheduler.ScorerLoRA:     cfg.Weights.LoRA,
		scheduler.ScorerInFlight: cfg.Weights.InFlight,
	}
	want := []DecisionRecord{
		{At: at, Pool: "main", Model: "alias", TargetModel: "base", Priority: 7, Endpoint: first, Weights: weights, Result: firstResult},
		{At: at, Pool: "main", Model: "alias", TargetModel: "base", Priority: 7, Endpoint: d.Endpoint.Name(), Retry: true, Weights: weights, Result: d.Result},
	}
	opt := cmpopts.IgnoreFields(scheduler.Result{}, "Endpoint")
	if diff := cmp.Diff(want, rec.recs, opt); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if first == d.Endpoint.Name() {
		t.Errorf("retry picked %s again", first)
	}
	for i, rr := range rec.recs {
		var total float64
		for s := range rr.Weights {
			total += rr.Weights[s] * rr.Result.Scores[s]
		}
		if diff := total - rr.Result.Total; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("record %d: weights·scores = %v, Total = %v", i, total, rr.Result.Total)
		}
	}
}
