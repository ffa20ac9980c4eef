package scheduler

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

func TestPickEmpty(t *testing.T) {
	t.Parallel()
	s := New(DefaultConfig(), nil)
	eps := idle(2)
	tests := []struct {
		name string
		snap *pool.Snapshot
		req  *Request
	}{
		{name: "nil snapshot", snap: nil, req: &Request{}},
		{name: "empty snapshot", snap: pool.NewSnapshot(nil), req: &Request{}},
		{name: "all excluded", snap: pool.NewSnapshot(eps), req: &Request{Exclude: eps}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := s.Pick(tc.req, tc.snap, testNow); !errors.Is(err, ErrNoEndpoint) {
				t.Errorf("Pick err = %v, want ErrNoEndpoint", err)
			}
		})
	}
}

func TestPickFollowsPrefixAfterCommit(t *testing.T) {
	t.Parallel()
	eps := idle(4)
	snap := pool.NewSnapshot(eps)
	s := New(DefaultConfig(), newSeededRand(1))
	prompt := chatPrompt(1, 1, 4096)

	// Route the first request to ep2, as the router would after Pick: the
	// prompt is cleared before Commit.
	req := &Request{Model: "llama", Prompt: prompt}
	if _, err := s.Pick(req, snap, testNow); err != nil {
		t.Fatal(err)
	}
	req.Prompt = nil
	s.Commit(req, eps[2])
	if s.PrefixIndexSize() == 0 {
		t.Fatal("Commit after a cleared prompt added nothing to the index")
	}

	// A later request sharing the system prompt follows it.
	next := &Request{Model: "llama", Prompt: chatPrompt(1, 2, 4096)}
	res, err := s.Pick(next, snap, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if res.Endpoint != eps[2] {
		t.Fatalf("picked %s, want ep2 (prefix holder)", res.Endpoint.Name())
	}
	if res.PrefixTotalBlocks == 0 || res.PrefixMatchBlocks == 0 || res.PrefixMatchBlocks >= res.PrefixTotalBlocks {
		t.Errorf("prefix match %d/%d, want a partial match (shared system prompt, new question)", res.PrefixMatchBlocks, res.PrefixTotalBlocks)
	}
	if got, want := res.Scores[ScorerPrefix], float64(res.PrefixMatchBlocks)/float64(res.PrefixTotalBlocks); got != want {
		t.Errorf("prefix score %v, want %v", got, want)
	}
	if res.Candidates != 4 {
		t.Errorf("Candidates = %d, want 4", res.Candidates)
	}

	// The same prompt under another model name shares nothing.
	other := &Request{Model: "other", Prompt: prompt}
	res, err = s.Pick(other, snap, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrefixMatchBlocks != 0 {
		t.Errorf("another model matched %d blocks, want 0", res.PrefixMatchBlocks)
	}
}

func TestPickCommitWithoutPick(t *testing.T) {
	t.Parallel()
	eps := idle(3)
	s := New(DefaultConfig(), nil)
	prompt := chatPrompt(3, 1, 2048)
	s.Commit(&Request{Model: "m", Prompt: prompt}, eps[1])
	res, err := s.Pick(&Request{Model: "m", Prompt: prompt}, pool.NewSnapshot(eps), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if res.Endpoint != eps[1] || res.PrefixMatchBlocks != res.PrefixTotalBlocks {
		t.Errorf("picked %s with %d/%d blocks, want ep1 with a full match", res.Endpoint.Name(), res.PrefixMatchBlocks, res.PrefixTotalBlocks)
	}
}

func TestPickLoRA(t *testing.T) {
	t.Parallel()
	eps := newEndpoints(
		epState{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"a", "b"}, MaxAdapters: 2})},
		epState{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"sql-lora"}, MaxAdapters: 2})},
		epState{metrics: fresh(pool.Metrics{MaxAdapters: 2})},
	)
	s := New(DefaultConfig(), newSeededRand(2))
	for i := range 20 {
		res, err := s.Pick(&Request{Model: "sql-lora", Prompt: chatPrompt(9, i, 512)}, pool.NewSnapshot(eps), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if res.Endpoint != eps[1] {
			t.Fatalf("round %d: picked %s, want ep1 (adapter active)", i, res.Endpoint.Name())
		}
		if res.Scores[ScorerLoRA] != 1 {
			t.Errorf("lora score %v, want 1", res.Scores[ScorerLoRA])
		}
	}
}

// TestPickAffinityVersusLoad checks the balance the default weights strike:
// a prefix holder keeps its traffic while its queue is within a few requests
// of an idle replica, and loses it once the gap nears the threshold.
func TestPickAffinityVersusLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		holder     pool.Metrics
		holderIn   int64 // gateway in-flight at the holder
		wantHolder bool
	}{
		{name: "idle holder", holder: pool.Metrics{}, wantHolder: true},
		{name: "holder busier by one", holder: pool.Metrics{WaitingQueue: 1, Running: 4, KVCacheUsage: 0.3}, holderIn: 5, wantHolder: true},
		{name: "holder busier by two", holder: pool.Metrics{WaitingQueue: 2, Running: 8, KVCacheUsage: 0.4}, holderIn: 10, wantHolder: true},
		{name: "holder backed up", holder: pool.Metrics{WaitingQueue: 6, Running: 16, KVCacheUsage: 0.6}, holderIn: 22, wantHolder: false},
		{name: "holder with unseen burst", holder: pool.Metrics{Running: 2}, holderIn: 9, wantHolder: false},
		{name: "holder KV nearly full and queueing", holder: pool.Metrics{WaitingQueue: 4, Running: 30, KVCacheUsage: 0.97}, holderIn: 34, wantHolder: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eps := newEndpoints(
				epState{metrics: fresh(tc.holder), inFlight: tc.holderIn},
				epState{metrics: fresh(pool.Metrics{})},
				epState{metrics: fresh(pool.Metrics{})},
			)
			s := New(DefaultConfig(), newSeededRand(3))
			s.Commit(&Request{Model: "m", Prompt: chatPrompt(5, 0, 4096)}, eps[0])
			res, err := s.Pick(&Request{Model: "m", Prompt: chatPrompt(5, 0, 4096)}, pool.NewSnapshot(eps), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Endpoint == eps[0]; got != tc.wantHolder {
				t.Errorf("picked %s (scores %v, total %.3f); want holder: %v", res.Endpoint.Name(), res.Scores, res.Total, tc.wantHolder)
			}
		})
	}
}

// TestPickHotPrefixSpreads sends one hot prefix repeatedly without any
// request finishing and without a new scrape: affinity keeps it on one
// replica until that replica is several requests ahead (the gateway's
// unseen in-flight requests count as queued), then a second replica takes
// over, and the imbalance stays bounded.
func TestPickHotPrefixSpreads(t *testing.T) {
	t.Parallel()
	eps := idle(4)
	snap := pool.NewSnapshot(eps)
	s := New(DefaultConfig(), newSeededRand(4))
	var order []string
	for i := range 40 {
		req := &Request{Model: "m", Prompt: chatPrompt(7, i, 4096), EstimatedTokens: 1200}
		res, err := s.Pick(req, snap, testNow)
		if err != nil {
			t.Fatal(err)
		}
		s.Commit(req, res.Endpoint)
		res.Endpoint.Acquire(req.EstimatedTokens)
		order = append(order, res.Endpoint.Name())
	}
	// The prompts share their first three quarters, so the holder keeps the
	// prefix while it is up to three requests ahead of an idle replica.
	for i := 1; i < 4; i++ {
		if order[i] != order[0] {
			t.Fatalf("request %d left the prefix holder while it had headroom: %v", i, order[:6])
		}
	}
	lo, hi := eps[0].InFlight(), eps[0].InFlight()
	for _, ep := range eps {
		lo, hi = min(lo, ep.InFlight()), max(hi, ep.InFlight())
	}
	if lo == 0 {
		t.Errorf("a replica got no share of the hot prefix: %v", order)
	}
	if hi-lo > int64(DefaultConfig().QueueDepthThreshold) {
		t.Errorf("in-flight spread %d..%d exceeds the queue threshold: %v", lo, hi, order)
	}
}

func TestPickColdRequestsSpread(t *testing.T) {
	t.Parallel()
	eps := idle(4)
	snap := pool.NewSnapshot(eps)
	s := New(DefaultConfig(), newSeededRand(5))
	for i := range 40 {
		req := &Request{Model: "m", Prompt: chatPrompt(100+i, i, 2048), EstimatedTokens: 600}
		res, err := s.Pick(req, snap, testNow)
		if err != nil {
			t.Fatal(err)
		}
		s.Commit(req, res.Endpoint)
		res.Endpoint.Acquire(req.EstimatedTokens)
	}
	for _, ep := range eps {
		if ep.InFlight() != 10 {
			t.Errorf("%s has %d in flight, want 10 (distinct prompts spread evenly)", ep.Name(), ep.InFlight())
		}
	}
}

func TestPickExclude(t *testing.T) {
	t.Parallel()
	eps := idle(3)
	snap := pool.NewSnapshot(eps)
	s := New(DefaultConfig(), newSeededRand(6))
	prompt := chatPrompt(2, 2, 2048)
	s.Commit(&Request{Model: "m", Prompt: prompt}, eps[0])
	req := &Request{Model: "m", Prompt: prompt, Exclude: []*pool.Endpoint{eps[0]}}
	for range 20 {
		res, err := s.Pick(req, snap, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if res.Endpoint == eps[0] {
			t.Fatal("picked an excluded endpoint")
		}
		if res.Candidates != 2 {
			t.Errorf("Candidates = %d, want 2", res.Candidates)
		}
	}
	req.Exclude = append(req.Exclude, eps[1])
	res, err := s.Pick(req, snap, testNow)
	if err != nil || res.Endpoint != eps[2] {
		t.Errorf("with ep0 and ep1 excluded, Pick = %v, %v; want ep2", res.Endpoint, err)
	}
}

func TestPickAvoidsStale(t *testing.T) {
	t.Parallel()
	eps := newEndpoints(
		epState{metrics: stale(pool.Metrics{})},                                                // looks idle, but old news
		epState{metrics: fresh(pool.Metrics{WaitingQueue: 3, KVCacheUsage: 0.7}), inFlight: 3}, // busy but known
		epState{}, // never scraped
	)
	s := New(DefaultConfig(), newSeededRand(7))
	prompt := chatPrompt(4, 4, 2048)
	s.Commit(&Request{Model: "m", Prompt: prompt}, eps[0])
	for range 10 {
		res, err := s.Pick(&Request{Model: "m", Prompt: prompt}, pool.NewSnapshot(eps), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if res.Endpoint != eps[1] {
			t.Fatalf("picked %s, want ep1 (the only fresh endpoint)", res.Endpoint.Name())
		}
	}
	// Once ep1 goes stale too, everything is a candidate again and the
	// prefix holder wins.
	later := testNow.Add(time.Minute)
	res, err := s.Pick(&Request{Model: "m", Prompt: prompt}, pool.NewSnapshot(eps), later)
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates != 3 || res.Endpoint != eps[0] {
		t.Errorf("all stale: picked %s of %d candidates, want ep0 of 3", res.Endpoint.Name(), res.Candidates)
	}
}

func TestPickTieBreak(t *testing.T) {
	t.Parallel()
	eps := idle(4)
	snap := pool.NewSnapshot(eps)
	tests := []struct {
		name string
		rnd  Rand
		want *pool.Endpoint
	}{
		{name: "rand never replaces", rnd: fixedRand(0.999), want: eps[0]},
		{name: "rand always replaces", rnd: fixedRand(0), want: eps[3]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(DefaultConfig(), tc.rnd)
			res, err := s.Pick(&Request{Model: "m"}, snap, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if res.Endpoint != tc.want {
				t.Errorf("picked %s, want %s", res.Endpoint.Name(), tc.want.Name())
			}
		})
	}
	t.Run("spreads over equals", func(t *testing.T) {
		t.Parallel()
		s := New(DefaultConfig(), newSeededRand(8))
		counts := map[string]int{}
		for range 400 {
			res, err := s.Pick(&Request{Model: "m"}, snap, testNow)
			if err != nil {
				t.Fatal(err)
			}
			counts[res.Endpoint.Name()]++
		}
		for _, ep := range eps {
			if n := counts[ep.Name()]; n < 60 {
				t.Errorf("%s picked %d of 400 times among 4 equals: %v", ep.Name(), n, counts)
			}
		}
	})
}

func TestPickResultScores(t *testing.T) {
	t.Parallel()
	eps := newEndpoints(epState{metrics: fresh(pool.Metrics{KVCacheUsage: 0.25})})
	cfg := DefaultConfig()
	cfg.Weights.LoRA = 0
	s := New(cfg, nil)
	res, err := s.Pick(&Request{Model: "m"}, pool.NewSnapshot(eps), testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Endpoint:   eps[0],
		Scores:     [NumScorers]float64{ScorerQueue: 1, ScorerKVCache: 0.75, ScorerPrefix: 0, ScorerLoRA: 0, ScorerInFlight: 1},
		Total:      3*1 + 2*0.75 + 1*1,
		Candidates: 1,
	}
	if diff := cmp.Diff(want, res, approx, cmp.Comparer(func(a, b *pool.Endpoint) bool { return a == b })); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
}

func TestPickAllWeightsZero(t *testing.T) {
	t.Parallel()
	eps := idle(3)
	s := New(Config{}, newSeededRand(9))
	seen := map[*pool.Endpoint]bool{}
	for range 60 {
		req := &Request{Model: "m", Prompt: chatPrompt(1, 1, 1024)}
		res, err := s.Pick(req, pool.NewSnapshot(eps), testNow)
		if err != nil {
			t.Fatal(err)
		}
		s.Commit(req, res.Endpoint)
		seen[res.Endpoint] = true
	}
	if len(seen) != 3 {
		t.Errorf("with every scorer disabled picks should be random, saw %d endpoints", len(seen))
	}
	if s.PrefixIndexSize() != 0 {
		t.Errorf("prefix disabled, but index has %d entries", s.PrefixIndexSize())
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	got := New(Config{Weights: Weights{Queue: -1, Prefix: 2}}, nil).Config()
	want := DefaultConfig()
	want.Weights = Weights{Prefix: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("effective config (-want +got):\n%s", diff)
	}
}

func TestPrefixIndexBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     func(*Config)
		metrics pool.Metrics
		want    int
	}{
		{name: "PrefixLRUCapacity when num_gpu_blocks unknown", cfg: func(c *Config) { c.PrefixLRUCapacity = 40 }, want: 40},
		{name: "num_gpu_blocks when reported", metrics: pool.Metrics{NumGPUBlocks: 30, BlockSize: 16}, want: 30},
		{name: "converted to the hashing block size", cfg: func(c *Config) { c.PrefixBlockTokens = 8 }, metrics: pool.Metrics{NumGPUBlocks: 30}, want: 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			eps := newEndpoints(epState{metrics: fresh(tc.metrics)})
			s := New(cfg, nil)
			for i := range 50 {
				req := &Request{Model: "m", Prompt: chatPrompt(i, i, 1024)}
				if _, err := s.Pick(req, pool.NewSnapshot(eps), testNow); err != nil {
					t.Fatal(err)
				}
				s.Commit(req, eps[0])
				if n := s.PrefixIndexSize(); n > tc.want {
					t.Fatalf("after %d commits index holds %d blocks, bound %d", i+1, n, tc.want)
				}
			}
			if n := s.PrefixIndexSize(); n != tc.want {
				t.Errorf("index holds %d blocks, want the bound %d", n, tc.want)
			}
		})
	}
}

func TestSchedulerCapacity(t *testing.T) {
	t.Parallel()
	s := New(DefaultConfig(), nil)
	tests := []struct {
		name        string
		m           *pool.Metrics
		blockTokens int
		want        int
	}{
		{name: "no metrics", m: nil, blockTokens: 16, want: 31250},
		{name: "unknown blocks", m: &pool.Metrics{BlockSize: 16}, blockTokens: 16, want: 31250},
		{name: "same block size", m: &pool.Metrics{NumGPUBlocks: 1000, BlockSize: 16}, blockTokens: 16, want: 1000},
		{name: "engine blocks twice as big", m: &pool.Metrics{NumGPUBlocks: 1000, BlockSize: 32}, blockTokens: 16, want: 2000},
		{name: "implausible size is capped", m: &pool.Metrics{NumGPUBlocks: 1 << 40, BlockSize: 4096}, blockTokens: 1, want: 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := s.capacity(tc.m, tc.blockTokens); got != tc.want {
				t.Errorf("capacity = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestForget(t *testing.T) {
	t.Parallel()
	store := pool.NewStore("p")
	snap := store.Sync([]pool.Spec{{Name: "a", Address: "10.0.0.1:8000"}, {Name: "b", Address: "10.0.0.2:8000"}})
	eps := snap.Endpoints()
	for _, ep := range eps {
		ep.SetMetrics(fresh(pool.Metrics{}))
	}
	s := New(DefaultConfig(), nil)
	prompt := chatPrompt(1, 1, 1024)
	s.Commit(&Request{Model: "m", Prompt: prompt}, eps[0])
	s.Commit(&Request{Model: "m", Prompt: prompt}, eps[1])
	per := s.PrefixIndexSize() / 2

	s.Forget(snap)
	if got := s.PrefixIndexSize(); got != 2*per {
		t.Fatalf("Forget with unchanged membership dropped entries: %d -> %d", 2*per, got)
	}
	snap = store.Sync([]pool.Spec{{Name: "b", Address: "10.0.0.2:8000"}})
	s.Forget(snap)
	if got := s.PrefixIndexSize(); got != per {
		t.Errorf("after removing a: index size %d, want %d", got, per)
	}
	res, err := s.Pick(&Request{Model: "m", Prompt: prompt}, snap, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if res.Endpoint.Name() != "b" || res.PrefixMatchBlocks != res.PrefixTotalBlocks {
		t.Errorf("picked %s with %d/%d blocks, want b with a full match", res.Endpoint.Name(), res.PrefixMatchBlocks, res.PrefixTotalBlocks)
	}
	s.Forget(pool.NewSnapshot(nil))
	if got := s.PrefixIndexSize(); got != 0 {
		t.Errorf("after emptying the pool: index size %d, want 0", got)
	}
}

// TestConcurrent exercises Pick, Commit, Saturation and Forget from many
// goroutines; run it with -race.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	eps := make([]*pool.Endpoint, 16)
	for i := range eps {
		eps[i] = pool.NewEndpoint(pool.Spec{Name: fmt.Sprintf("ep%d", i), Address: fmt.Sprintf("10.0.1.%d:8000", i)})
		eps[i].SetMetrics(fresh(pool.Metrics{WaitingQueue: i % 3, KVCacheUsage: float64(i%5) / 10, NumGPUBlocks: 64}))
	}
	full := pool.NewSnapshot(eps)
	half := pool.NewSnapshot(eps[:8])
	s := New(DefaultConfig(), nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			req := &Request{Model: "m"}
			for i := range 200 {
				snap := full
				if (g+i)%7 == 0 {
					snap = half
				}
				req.Prompt = chatPrompt((g+i)%5, i, 1024)
				req.EstimatedTokens = 300
				res, err := s.Pick(req, snap, testNow)
				if err != nil {
					t.Error(err)
					return
				}
				res.Endpoint.Acquire(req.EstimatedTokens)
				s.Commit(req, res.Endpoint)
				_ = s.Saturation(snap, testNow)
				if i%50 == 49 {
					s.Forget(snap)
				}
				res.Endpoint.Release(req.EstimatedTokens)
			}
		})
	}
	wg.Wait()
	if n := s.PrefixIndexSize(); n > 16*64 {
		t.Errorf("index holds %d blocks, bound 16×64", n)
	}
	for _, ep := range eps {
		if ep.InFlight() != 0 {
			t.Errorf("%s in flight %d after all released", ep.Name(), ep.InFlight())
		}
	}
}
