package prefix

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

func endpoints(n int) []*pool.Endpoint {
	eps := make([]*pool.Endpoint, n)
	for i := range eps {
		eps[i] = pool.NewEndpoint(pool.Spec{Name: fmt.Sprintf("ep%d", i), Address: fmt.Sprintf("10.0.0.%d:8000", i)})
	}
	return eps
}

func seq(start, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(start + i)
	}
	return out
}

func TestIndexMatch(t *testing.T) {
	t.Parallel()
	eps := endpoints(3)
	tests := []struct {
		name  string
		adds  map[int][]uint64 // endpoint index → hashes committed
		query []uint64
		want  []int
	}{
		{name: "empty index", query: seq(1, 4), want: []int{0, 0, 0}},
		{name: "empty query", adds: map[int][]uint64{0: seq(1, 4)}, query: nil, want: []int{0, 0, 0}},
		{name: "full match on one", adds: map[int][]uint64{1: seq(1, 4)}, query: seq(1, 4), want: []int{0, 4, 0}},
		{name: "partial match", adds: map[int][]uint64{0: seq(1, 2)}, query: seq(1, 4), want: []int{2, 0, 0}},
		{name: "longest differs per endpoint", adds: map[int][]uint64{0: seq(1, 1), 1: seq(1, 3), 2: seq(1, 4)}, query: seq(1, 4), want: []int{1, 3, 4}},
		{name: "gap stops the match", adds: map[int][]uint64{0: {1, 2, 4}}, query: seq(1, 4), want: []int{2, 0, 0}},
		{name: "later blocks alone do not match", adds: map[int][]uint64{0: {2, 3, 4}}, query: seq(1, 4), want: []int{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := NewIndex()
			for i, hs := range tc.adds {
				x.Add(eps[i], hs, 100)
			}
			got := make([]int, len(eps))
			var s Scratch
			x.Match(tc.query, eps, got, &s)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIndexMatchOnlyCandidates(t *testing.T) {
	t.Parallel()
	eps := endpoints(3)
	x := NewIndex()
	x.Add(eps[0], seq(1, 8), 100)
	x.Add(eps[2], seq(1, 3), 100)
	got := make([]int, 2)
	x.Match(seq(1, 8), []*pool.Endpoint{eps[1], eps[2]}, got, new(Scratch))
	if diff := cmp.Diff([]int{0, 3}, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
}

func TestIndexEvictionBound(t *testing.T) {
	t.Parallel()
	eps := endpoints(2)
	x := NewIndex()
	const capacity = 10
	for r := range 20 {
		x.Add(eps[0], seq(r*100, 4), capacity)
		if got := x.Len(); got > capacity {
			t.Fatalf("after %d adds Len = %d, want <= %d", r+1, got, capacity)
		}
	}
	if got := x.Len(); got != capacity {
		t.Errorf("Len = %d, want %d", got, capacity)
	}
	got := make([]int, 1)
	var s Scratch
	x.Match(seq(19*100, 4), eps[:1], got, &s)
	if got[0] != 4 {
		t.Errorf("latest prompt matched %d blocks, want 4", got[0])
	}
	// The prompt before last lost its tail first (blocks are inserted last
	// to first), so its head survives.
	x.Match(seq(18*100, 4), eps[:1], got, &s)
	if got[0] != 4 {
		t.Errorf("second-latest prompt matched %d blocks, want 4", got[0])
	}
	x.Match(seq(17*100, 4), eps[:1], got, &s)
	if got[0] != 2 {
		t.Errorf("third-latest prompt matched %d blocks, want its 2 head blocks", got[0])
	}
	x.Match(seq(0, 4), eps[:1], got, &s)
	if got[0] != 0 {
		t.Errorf("oldest prompt matched %d blocks, want 0 (evicted)", got[0])
	}
	// Shrinking the capacity evicts down to it on the next Add.
	x.Add(eps[0], seq(19*100, 1), 3)
	if got := x.Len(); got != 3 {
		t.Errorf("after shrinking Len = %d, want 3", got)
	}
	// Capacity is per endpoint.
	x.Add(eps[1], seq(5000, 5), 5)
	if got := x.Len(); got != 8 {
		t.Errorf("Len = %d, want 8", got)
	}
}

func TestIndexTouchKeepsHotBlocks(t *testing.T) {
	t.Parallel()
	eps := endpoints(1)
	x := NewIndex()
	hot := seq(1, 2)
	x.Add(eps[0], hot, 4)
	for r := range 10 {
		x.Add(eps[0], hot, 4) // re-used prefix stays recent
		x.Add(eps[0], seq(1000+r*10, 2), 4)
	}
	got := make([]int, 1)
	x.Match(hot, eps, got, new(Scratch))
	if got[0] != 2 {
		t.Errorf("hot prefix matched %d blocks, want 2", got[0])
	}
	if x.Len() != 4 {
		t.Errorf("Len = %d, want 4", x.Len())
	}
}

func TestIndexSharedBlocks(t *testing.T) {
	t.Parallel()
	eps := endpoints(4)
	x := NewIndex()
	for _, ep := range eps {
		x.Add(ep, seq(1, 3), 100)
	}
	if x.Len() != 12 {
		t.Fatalf("Len = %d, want 12", x.Len())
	}
	got := make([]int, len(eps))
	var s Scratch
	x.Match(seq(1, 3), eps, got, &s)
	if diff := cmp.Diff([]int{3, 3, 3, 3}, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
	// Dropping endpoints out of the middle of a holder set keeps the rest.
	x.Retain(func(ep *pool.Endpoint) bool { return ep != eps[0] && ep != eps[2] })
	x.Match(seq(1, 3), eps, got, &s)
	if diff := cmp.Diff([]int{0, 3, 0, 3}, got); diff != "" {
		t.Errorf("after Retain, Match (-want +got):\n%s", diff)
	}
	if x.Len() != 6 {
		t.Errorf("after Retain, Len = %d, want 6", x.Len())
	}
	// A recycled slot does not inherit the dropped endpoint's blocks.
	fresh := endpoints(5)[4]
	x.Add(fresh, seq(100, 1), 100)
	x.Match(seq(1, 3), []*pool.Endpoint{fresh}, got[:1], &s)
	if got[0] != 0 {
		t.Errorf("new endpoint in a recycled slot matched %d blocks, want 0", got[0])
	}
	x.Retain(func(*pool.Endpoint) bool { return false })
	if x.Len() != 0 {
		t.Errorf("after dropping all, Len = %d, want 0", x.Len())
	}
	for i := range x.shards {
		if n := len(x.shards[i].m); n != 0 {
			t.Fatalf("shard %d still has %d entries", i, n)
		}
	}
}

func TestIndexMatchAllocs(t *testing.T) {
	eps := endpoints(100)
	x := NewIndex()
	for i, ep := range eps {
		x.Add(ep, seq(i%10, 64), 1000)
	}
	q := seq(3, 64)
	out := make([]int, len(eps))
	var s Scratch
	x.Match(q, eps, out, &s)
	allocs := testing.AllocsPerRun(100, func() { x.Match(q, eps, out, &s) })
	if allocs != 0 {
		t.Errorf("Match allocated %v times per run", allocs)
	}
}

func TestIndexConcurrent(t *testing.T) {
	t.Parallel()
	eps := endpoints(8)
	x := NewIndex()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var s Scratch
			out := make([]int, len(eps))
			for r := range 300 {
				hs := seq((g*7+r)%13*10, 8)
				x.Add(eps[(g+r)%len(eps)], hs, 50)
				x.Match(hs, eps, out, &s)
				if r%100 == 99 {
					drop := eps[(g+r)%len(eps)]
					x.Retain(func(ep *pool.Endpoint) bool { return ep != drop })
				}
			}
		})
	}
	wg.Wait()
	if n := x.Len(); n > 50*len(eps) {
		t.Errorf("Len = %d exceeds %d endpoints × capacity 50", n, len(eps))
	}
	total := 0
	x.mu.RLock()
	for _, l := range x.lrus {
		l.mu.Lock()
		total += l.n
		l.mu.Unlock()
	}
	x.mu.RUnlock()
	if total != x.Len() {
		t.Errorf("sum of LRU lengths %d != Len %d", total, x.Len())
	}
}
