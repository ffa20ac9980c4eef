package router

import (
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

func TestFlowSignal(t *testing.T) {
	now := time.Unix(1000, 0)
	st := pool.NewStore("p")
	sig := FlowSignal{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}
	if s := sig.Saturation(now); s.Endpoints != 0 {
		t.Fatalf("empty pool: %+v", s)
	}
	snap := st.Sync([]pool.Spec{{Name: "a", Address: "a:1"}, {Name: "b", Address: "b:1"}})
	for _, ep := range snap.Endpoints() {
		ep.SetMetrics(&pool.Metrics{Running: 4, ScrapedAt: now})
	}
	s := sig.Saturation(now)
	if s.Level != 0 || s.Endpoints != 2 || s.Stale != 0 || s.QueueUnit != 0.1 {
		t.Fatalf("idle pool: %+v", s)
	}
	// Gateway-side limits: two requests of 100 tokens each at a.
	a := snap.Endpoints()[0]
	a.Acquire(100)
	a.Acquire(100)
	sig.MaxRequestsPerEndpoint = 2
	if s := sig.Saturation(now); s.Level != 0.5 || s.Demand != 0.5 || s.Capacity != 4 {
		t.Fatalf("a full by requests: %+v, want level and demand 0.5, capacity 2 × 2", s)
	}
	sig.MaxRequestsPerEndpoint, sig.MaxTokensPerEndpoint = 0, 50
	if s := sig.Saturation(now); s.Level != 0.5 || s.Demand != 2 || s.Capacity != 0 {
		t.Fatalf("a four times over by tokens: %+v, want level 0.5, demand 2", s)
	}
	// Stale metrics count as full only past the staleness window.
	later := now.Add(scheduler.DefaultConfig().Staleness)
	sig.MaxTokensPerEndpoint = 0
	if s := sig.Saturation(later); s.Stale != 0 {
		t.Fatalf("at the staleness window: %+v, want nothing stale", s)
	}
	if s := sig.Saturation(later.Add(time.Millisecond)); s.Stale != 2 || s.Level != 1 {
		t.Fatalf("past the staleness window: %+v, want both stale and level 1", s)
	}
}
