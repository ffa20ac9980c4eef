//go:build !race

package scheduler

import (
	"testing"

	"github.com/infergate/infergate/internal/pool"
)

// TestPickAllocs enforces the hot-path budget: with a reused Request, Pick
// over 100 endpoints with a realistic prompt and a warm prefix index
// allocates nothing. (The race detector allocates, hence the build tag.)
func TestPickAllocs(t *testing.T) {
	s, snap, req := benchPool(t)
	res, err := s.Pick(req, snap, testNow) // warm the cycle pool and req's scratch
	if err != nil {
		t.Fatal(err)
	}
	if res.PrefixMatchBlocks == 0 || res.Candidates != 100 {
		t.Fatalf("benchmark setup is not realistic: %d prefix blocks matched, %d candidates", res.PrefixMatchBlocks, res.Candidates)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Pick allocated %v times per call, want 0", allocs)
	}
}

// TestPickObservedAllocs is TestPickAllocs with a plugin observer: timing
// the plugins allocates nothing either.
func TestPickObservedAllocs(t *testing.T) {
	base, snap, req := benchPool(t)
	s := New(base.Config(), nil, WithPluginObserver(sinkObserver{}))
	s.index = base.index // the warm prefix index
	if _, err := s.Pick(req, snap, testNow); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("observed Pick allocated %v times per call, want 0", allocs)
	}
}

// TestPickAllocsSkippingEjected: skipping endpoints outlier detection
// ejected allocates nothing either.
func TestPickAllocsSkippingEjected(t *testing.T) {
	ok := fresh(pool.Metrics{})
	snap := pool.NewSnapshot(newEndpoints(epState{metrics: ok, ejected: true}, epState{metrics: ok}, epState{metrics: ok, ejected: true}, epState{metrics: ok}))
	s := New(DefaultConfig(), nil)
	req := &Request{Model: "m", Prompt: []byte("hello")}
	if res, err := s.Pick(req, snap, testNow); err != nil || res.Candidates != 2 {
		t.Fatalf("Pick = %d candidates, %v; want the 2 not ejected", res.Candidates, err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Pick allocated %v times per call, want 0", allocs)
	}
}
