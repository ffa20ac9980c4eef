package scheduler

import (
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

func TestSaturation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		states []epState
		want   float64
	}{
		{name: "empty pool is saturated", states: nil, want: 1},
		{name: "idle", states: []epState{{metrics: fresh(pool.Metrics{})}}, want: 0},
		{name: "queue at threshold", states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 5})}}, want: 1},
		{name: "queue below threshold", states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 2})}}, want: 0.4},
		{name: "kv dominates", states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 1, KVCacheUsage: 0.6})}}, want: 0.75},
		{name: "kv at threshold", states: []epState{{metrics: fresh(pool.Metrics{KVCacheUsage: 0.8})}}, want: 1},
		{name: "unseen gateway requests count as queued", states: []epState{{metrics: fresh(pool.Metrics{Running: 1}), inFlight: 4}}, want: 0.6},
		{name: "stale metrics count as full", states: []epState{{metrics: stale(pool.Metrics{})}}, want: 1},
		{name: "missing metrics count as full", states: []epState{{}}, want: 1},
		{name: "failing scrapes count as full", states: []epState{{metrics: fresh(pool.Metrics{}), scrapeFailures: 3}}, want: 1},
		{
			name:   "mean over endpoints, each capped at 1",
			states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 50})}, {metrics: fresh(pool.Metrics{})}},
			want:   0.5,
		},
		{
			name:   "saturated only when every endpoint is full",
			states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 7})}, {metrics: fresh(pool.Metrics{KVCacheUsage: 0.95})}, {}},
			want:   1,
		},
	}
	s := New(DefaultConfig(), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			snap := pool.NewSnapshot(newEndpoints(tc.states...))
			got := s.Saturation(snap, testNow)
			if diff := got - tc.want; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("Saturation = %v, want %v", got, tc.want)
			}
		})
	}
	if got := s.Saturation(nil, testNow); got != 1 {
		t.Errorf("Saturation(nil) = %v, want 1", got)
	}
}

func TestLoadUncapped(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(DefaultConfig(), nil)
	busy := pool.NewEndpoint(pool.Spec{Name: "busy", Address: "a:1"})
	busy.SetMetrics(&pool.Metrics{WaitingQueue: 15, ScrapedAt: now})
	idle := pool.NewEndpoint(pool.Spec{Name: "idle", Address: "b:1"})
	idle.SetMetrics(&pool.Metrics{WaitingQueue: 0, ScrapedAt: now})
	stale := pool.NewEndpoint(pool.Spec{Name: "stale", Address: "c:1"})
	stale.SetMetrics(&pool.Metrics{ScrapedAt: now.Add(-time.Minute)})
	snap := pool.NewSnapshot([]*pool.Endpoint{busy, idle, stale})
	l := s.Load(snap, now, 0, 0)
	level, demand, nStale, per := l.Level, l.Demand, l.Stale, l.PerRequest
	// busy: 15/5 = 3 (capped 1), idle 0, stale 1.
	if level != 2.0/3 || demand != 4.0/3 || nStale != 1 || per != 1.0/15 {
		t.Fatalf("Load = %v, %v, %d, %v; want 2/3, 4/3, 1, 1/15", level, demand, nStale, per)
	}
	if level != s.Saturation(snap, now) {
		t.Fatalf("Load level %v differs from Saturation %v", level, s.Saturation(snap, now))
	}
	// A threshold of its own: busy 15/3 (capped 1), idle 0, stale 1.
	if l := s.Load(snap, now, 3, 0); l.Level != 2.0/3 || l.Demand != 6.0/3 || l.PerRequest != 1.0/9 || l.Ready != 3 {
		t.Fatalf("Load with threshold 3 = %+v; want level 2/3, demand 2, 1/9 per request, 3 ready", l)
	}
	// Failing scrapes: the endpoint is absent, not busy.
	for range DefaultConfig().MaxScrapeFailures {
		stale.RecordScrapeFailure()
	}
	if l := s.Load(snap, now, 0, 0); l.Ready != 2 || l.Level != 0.5 || l.Stale != 0 {
		t.Fatalf("Load with one endpoint failing its scrapes = %+v; want 2 ready, level 1/2, none stale", l)
	}
	if l := s.Load(pool.NewSnapshot(nil), now, 0, 0); l.Level != 1 || l.Demand != 1 || l.PerRequest != 0 || l.Ready != 0 {
		t.Fatalf("empty pool: %+v", l)
	}
}

// TestLoadCountsRequestsEndedSinceTheScrape: flow control's gate frees a
// slot as soon as one of the gateway's requests ends, not a scrape later.
func TestLoadCountsRequestsEndedSinceTheScrape(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(DefaultConfig(), nil)
	ep := pool.NewEndpoint(pool.Spec{Name: "a", Address: "a:1"})
	for range 10 {
		ep.Acquire(1)
	}
	ep.SetMetrics(&pool.Metrics{WaitingQueue: 2, Running: 8, ScrapedAt: now})
	snap := pool.NewSnapshot([]*pool.Endpoint{ep})
	if level := s.Load(snap, now, 2, 0).Level; level != 1 {
		t.Fatalf("2 waiting at threshold 2: level %v, want 1", level)
	}
	pick := s.Saturation(snap, now)
	ep.Release(1) // one ends: a waiting request takes its slot
	if level := s.Load(snap, now, 2, 0).Level; level != 0.5 {
		t.Fatalf("after one ended: level %v, want 0.5", level)
	}
	if got := s.Saturation(snap, now); got != pick {
		t.Fatalf("the pick's saturation changed (%v, was %v); only flow control's reading should", got, pick)
	}
	ep.Acquire(1) // the gateway sends one: it waits again
	if level := s.Load(snap, now, 2, 0).Level; level != 1 {
		t.Fatalf("after one more sent: level %v, want 1", level)
	}
}

// TestLoadCountsRequestsInTransitAtTheScrape: a request sent just before a
// scrape that the replica did not report yet still waits.
func TestLoadCountsRequestsInTransitAtTheScrape(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(DefaultConfig(), nil)
	ep := pool.NewEndpoint(pool.Spec{Name: "a", Address: "a:1"})
	for range 6 {
		ep.Acquire(1)
	}
	ep.SetMetrics(&pool.Metrics{WaitingQueue: 4, Running: 1, ScrapedAt: now}) // the sixth is in transit
	if level := s.Load(pool.NewSnapshot([]*pool.Endpoint{ep}), now, 5, 0).Level; level != 1 {
		t.Fatalf("level %v with 4 waiting and one in transit at threshold 5, want 1", level)
	}
}

func TestScrapedSlots(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		waiting, running        int
		atScrape                int64
		batch                   int
		wantQueued, wantFreeNow int64
	}{
		{"batch unknown: in transit waits", 0, 2, 4, 0, 2, 0},
		{"batch known, room for those in transit", 0, 2, 4, 8, 0, 4},
		{"batch known, more in transit than room", 0, 6, 10, 8, 2, 0},
		{"replica reports waiting: batch full", 1, 8, 9, 8, 1, 0},
		{"replica reports waiting with room (KV): batch full", 2, 5, 9, 8, 4, 0},
		{"running beyond the configured batch adds nothing", 0, 12, 12, 8, 0, 0},
		{"nonsense stays non-negative", -1, -2, -3, 8, 0, 8},
	} {
		q, free := scrapedSlots(tc.waiting, tc.running, tc.atScrape, tc.batch)
		if q != tc.wantQueued || free != tc.wantFreeNow {
			t.Errorf("%s: scrapedSlots(%d, %d, %d, %d) = %d queued, %d free; want %d, %d",
				tc.name, tc.waiting, tc.running, tc.atScrape, tc.batch, q, free, tc.wantQueued, tc.wantFreeNow)
		}
	}
}

// With the batch size known, a request sent since the scrape into a batch
// that had room does not make the endpoint count as full at a queue-depth
// threshold of 1; with it unknown, it does.
func TestLoadBatchSlots(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(DefaultConfig(), nil)
	ep := pool.NewEndpoint(pool.Spec{Name: "a", Address: "a:1"})
	for range 3 {
		ep.Acquire(1)
	}
	ep.SetMetrics(&pool.Metrics{Running: 3, ScrapedAt: now})
	ep.Acquire(1) // sent since the scrape
	snap := pool.NewSnapshot([]*pool.Endpoint{ep})
	if level := s.Load(snap, now, 1, 0).Level; level != 1 {
		t.Errorf("batch unknown: level %v, want 1 (the new request counts as waiting)", level)
	}
	if level := s.Load(snap, now, 1, 8).Level; level != 0 {
		t.Errorf("batch of 8 with 3 running: level %v, want 0 (the new request took a free slot)", level)
	}
	if level := s.Load(snap, now, 1, 3).Level; level != 1 {
		t.Errorf("batch of 3 with 3 running: level %v, want 1", level)
	}
}

func TestFlowQueue(t *testing.T) {
	for _, tc := range []struct {
		waiting     int
		ended, sent int64
		want        float64
	}{
		{0, 0, 0, 0},
		{3, 0, 0, 3},
		{3, 1, 0, 2},
		{3, 5, 0, 0},
		{3, 5, 1, 0},    // 2 slots left free take the new one
		{3, 5, 4, 2},    // 2 of 4 new ones fit
		{0, 0, 4, 4},    // sent since the scrape count as waiting
		{-1, -2, -3, 0}, // nonsense stays non-negative
	} {
		if got := flowQueue(int64(tc.waiting), tc.ended, tc.sent, 0); got != tc.want {
			t.Errorf("flowQueue(%d, %d, %d) = %v, want %v", tc.waiting, tc.ended, tc.sent, got, tc.want)
		}
	}
	// Free batch slots at the scrape take requests sent since.
	for _, tc := range []struct {
		waiting, ended, sent, free int64
		want                       float64
	}{
		{0, 0, 4, 4, 0},
		{0, 0, 5, 4, 1},
		{0, 1, 5, 4, 0}, // the ended one's slot too
		{0, 0, 2, -1, 2},
	} {
		if got := flowQueue(tc.waiting, tc.ended, tc.sent, tc.free); got != tc.want {
			t.Errorf("flowQueue(%d, %d, %d, free %d) = %v, want %v", tc.waiting, tc.ended, tc.sent, tc.free, got, tc.want)
		}
	}
}
