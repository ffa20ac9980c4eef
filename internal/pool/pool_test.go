package pool

import (
	"sync"
	"testing"
	"time"
)

func TestStoreSyncKeepsEndpointIdentity(t *testing.T) {
	base := Spec{Name: "a", Address: "127.0.0.1:1"}
	tests := []struct {
		name     string
		next     Spec
		wantSame bool // the endpoint keeps its identity, and with it its state
	}{
		{name: "unchanged spec", next: base, wantSame: true},
		{name: "default engine equals vllm", next: Spec{Name: "a", Address: "127.0.0.1:1", Engine: EngineVLLM}, wantSame: true},
		{name: "engine changed", next: Spec{Name: "a", Address: "127.0.0.1:1", Engine: EngineSGLang}},
		{name: "renamed", next: Spec{Name: "z", Address: "127.0.0.1:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := NewStore("p")
			a := st.Sync([]Spec{base, {Name: "b", Address: "127.0.0.1:2"}}).Lookup(base.Address)
			a.SetMetrics(&Metrics{WaitingQueue: 3})
			a.Acquire(10)
			next := st.Sync([]Spec{tc.next})
			got := next.Lookup(base.Address)
			if (got == a) != tc.wantSame {
				t.Fatalf("identity kept = %v, want %v", got == a, tc.wantSame)
			}
			if tc.wantSame && (got.InFlight() != 1 || got.Metrics().WaitingQueue != 3) {
				t.Errorf("state lost: in-flight %d, metrics %+v", got.InFlight(), got.Metrics())
			}
			if next.Len() != 1 || next.Lookup("127.0.0.1:2") != nil {
				t.Error("removed endpoint still in the snapshot")
			}
		})
	}
}

func TestEndpointCounters(t *testing.T) {
	e := NewEndpoint(Spec{Name: "e", Address: "127.0.0.1:9"})
	if e.Engine() != EngineVLLM || e.Metrics() != nil || e.Models() != nil {
		t.Fatalf("new endpoint: engine %q metrics %v models %v", e.Engine(), e.Metrics(), e.Models())
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			e.Acquire(7)
			e.Release(7)
		})
	}
	wg.Wait()
	if e.InFlight() != 0 || e.InFlightTokens() != 0 {
		t.Errorf("after balanced Acquire/Release: %d requests, %d tokens", e.InFlight(), e.InFlightTokens())
	}
	e.RecordScrapeFailure()
	e.RecordScrapeFailure()
	if e.ScrapeFailures() != 2 {
		t.Errorf("failures = %d, want 2", e.ScrapeFailures())
	}
	now := time.Unix(100, 0)
	e.SetMetrics(&Metrics{ScrapedAt: now.Add(-time.Second), ActiveAdapters: []string{"a"}, WaitingAdapters: []string{"w"}})
	if e.ScrapeFailures() != 0 {
		t.Error("a successful scrape did not reset the failure count")
	}
	if !e.Fresh(now, 2*time.Second) || e.Fresh(now, 500*time.Millisecond) {
		t.Error("freshness wrong around the staleness bound")
	}
	m := e.Metrics()
	if !m.HasAdapter("a") || m.HasAdapter("w") || !m.IsWaitingAdapter("w") {
		t.Error("adapter lookups wrong")
	}
	e.SetModels([]string{"base", "a"})
	if !e.ServesModel("a") || e.ServesModel("x") {
		t.Error("ServesModel wrong")
	}
	if !EngineTRTLLM.Valid() || Engine("tgi").Valid() {
		t.Error("Engine.Valid wrong")
	}
}

func TestSetReplace(t *testing.T) {
	a, b := NewStore("a"), NewStore("b")
	s := NewSet(a)
	if got := s.Stores(); len(got) != 1 || got[0] != a {
		t.Fatalf("Stores() = %v, want [a]", got)
	}
	before := s.Stores()
	s.Replace([]*Store{a, b})
	if got := s.Stores(); len(got) != 2 || got[1] != b {
		t.Fatalf("after Replace, Stores() = %v, want [a b]", got)
	}
	if len(before) != 1 {
		t.Fatalf("a slice read before Replace changed: %v", before)
	}
	s.Replace(nil)
	if got := s.Stores(); got == nil || len(got) != 0 {
		t.Fatalf("after Replace(nil), Stores() = %#v, want empty non-nil", got)
	}
}

func TestEnginesAreValid(t *testing.T) {
	for _, e := range Engines() {
		if !e.Valid() {
			t.Errorf("Engines() lists %q, which is not Valid", e)
		}
	}
	if Engine("").Valid() || Engine("tgi").Valid() {
		t.Error("an empty or unknown engine is Valid")
	}
}
