package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

func TestAdapterMemoryRecency(t *testing.T) {
	t.Parallel()
	eps := idle(2)
	m := newAdapterMemory()
	if m.isAdapter("a") || m.resident(eps[0], "a", 4) {
		t.Fatal("empty memory knows adapter a")
	}
	for _, name := range []string{"a", "b", "c", "a", "d"} {
		m.sent(eps[0], name)
	}
	// Most recent first: d a c b.
	tests := []struct {
		adapter string
		slots   int
		want    bool
	}{
		{adapter: "d", slots: 1, want: true},
		{adapter: "a", slots: 1, want: false},
		{adapter: "a", slots: 2, want: true},
		{adapter: "b", slots: 3, want: false},
		{adapter: "b", slots: 4, want: true},
		{adapter: "x", slots: 16, want: false},
	}
	for _, tc := range tests {
		if got := m.resident(eps[0], tc.adapter, tc.slots); got != tc.want {
			t.Errorf("resident(%s, %d slots) = %t, want %t", tc.adapter, tc.slots, got, tc.want)
		}
	}
	if m.resident(eps[1], "a", 4) {
		t.Error("adapter a resident on an endpoint it was never sent to")
	}
	if !m.isAdapter("c") {
		t.Error("adapter c not learned")
	}

	// The ring keeps the most recent maxRememberedAdapters names.
	for i := range maxRememberedAdapters + 3 {
		m.sent(eps[1], fmt.Sprintf("n%d", i))
	}
	if m.resident(eps[1], "n2", maxRememberedAdapters) || !m.resident(eps[1], "n3", maxRememberedAdapters) {
		t.Error("ring did not drop exactly the oldest names")
	}

	m.retain(func(ep *pool.Endpoint) bool { return ep == eps[1] })
	if m.resident(eps[0], "d", 4) {
		t.Error("memory of a forgotten endpoint survived retain")
	}
}

// TestLoRAMemoryKeepsIdleAdapterAffinity checks the case the metrics cannot
// show: an adapter loaded but idle. Once a replica has reported the adapter,
// later requests go back to the endpoint it was sent to even when no
// replica lists it any more.
func TestLoRAMemoryKeepsIdleAdapterAffinity(t *testing.T) {
	t.Parallel()
	s := New(DefaultConfig(), fixedRand(0))
	slots := func(active ...string) *pool.Metrics {
		return fresh(pool.Metrics{ActiveAdapters: active, MaxAdapters: 2})
	}
	eps := newEndpoints(
		epState{metrics: slots("sql")},
		epState{metrics: slots()},
		epState{metrics: slots()},
	)
	snap := pool.NewSnapshot(eps)
	req := &Request{Model: "sql"}
	res, err := s.Pick(req, snap, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if res.Endpoint != eps[0] || res.Scores[ScorerLoRA] != 1 {
		t.Fatalf("first pick = %s (lora score %v), want ep0 where sql is active", res.Endpoint.Name(), res.Scores[ScorerLoRA])
	}
	s.Commit(req, res.Endpoint)

	// The request finished: no replica lists sql now, and ep0 looks the
	// same as the others.
	for _, ep := range eps {
		ep.SetMetrics(slots("other"))
	}
	later := testNow.Add(time.Second)
	for _, ep := range eps {
		m := *ep.Metrics()
		m.ScrapedAt = later
		ep.SetMetrics(&m)
	}
	req = &Request{Model: "sql"}
	res, err = s.Pick(req, snap, later)
	if err != nil {
		t.Fatal(err)
	}
	if res.Endpoint != eps[0] {
		t.Errorf("idle adapter: picked %s, want ep0 where sql was loaded", res.Endpoint.Name())
	}
	got := []float64{}
	c := newTestCycle(t, DefaultConfig(), &Request{Model: "sql"}, eps)
	c.adapters = s.adapters
	out := make([]float64, len(eps))
	loraScorer{}.score(c, out)
	got = append(got, out...)
	if diff := cmp.Diff([]float64{1, 0.8, 0.8}, got, approx); diff != "" {
		t.Errorf("lora scores with memory (-want +got):\n%s", diff)
	}

	// A base model is never learned as an adapter.
	base := &Request{Model: "llama"}
	if _, err := s.Pick(base, snap, later); err != nil {
		t.Fatal(err)
	}
	s.Commit(base, eps[1])
	if s.adapters.isAdapter("llama") {
		t.Error("base model learned as an adapter")
	}
}
