package scheduler

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/infergate/infergate/internal/pool"
)

var approx = cmpopts.EquateApprox(0, 1e-9)

func runScorer(t *testing.T, sc scorer, req *Request, eps []*pool.Endpoint) []float64 {
	t.Helper()
	c := newTestCycle(t, DefaultConfig(), req, eps)
	out := make([]float64, len(c.cands))
	sc.score(c, out)
	for i, v := range out {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("score[%d] = %v, outside [0,1]", i, v)
		}
	}
	return out
}

func TestQueueScorer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		states []epState
		want   []float64
	}{
		{
			name:   "all equal",
			states: []epState{{metrics: fresh(pool.Metrics{WaitingQueue: 3})}, {metrics: fresh(pool.Metrics{WaitingQueue: 3})}},
			want:   []float64{1, 1},
		},
		{
			name: "quadratic in the gap to the least loaded, in thresholds",
			states: []epState{
				{metrics: fresh(pool.Metrics{WaitingQueue: 0})},
				{metrics: fresh(pool.Metrics{WaitingQueue: 1})},
				{metrics: fresh(pool.Metrics{WaitingQueue: 3})},
				{metrics: fresh(pool.Metrics{WaitingQueue: 5})},
				{metrics: fresh(pool.Metrics{WaitingQueue: 40})},
			},
			want: []float64{1, 1 - 0.04, 1 - 0.36, 0, 0},
		},
		{
			name: "relative to the least loaded, not absolute",
			states: []epState{
				{metrics: fresh(pool.Metrics{WaitingQueue: 10})},
				{metrics: fresh(pool.Metrics{WaitingQueue: 11})},
			},
			want: []float64{1, 0.96},
		},
		{
			name: "gateway requests the scrape has not seen count as queued",
			states: []epState{
				{metrics: fresh(pool.Metrics{Running: 2}), inFlight: 5}, // 3 unseen
				{metrics: fresh(pool.Metrics{})},
			},
			want: []float64{1 - 0.36, 1},
		},
		{
			name: "in-flight already visible as running is not double counted",
			states: []epState{
				{metrics: fresh(pool.Metrics{WaitingQueue: 1, Running: 4}), inFlight: 3},
				{metrics: fresh(pool.Metrics{})},
			},
			want: []float64{0.96, 1},
		},
		{
			name: "stale metrics: gateway in-flight only",
			states: []epState{
				{metrics: stale(pool.Metrics{WaitingQueue: 50}), inFlight: 0},
				{metrics: stale(pool.Metrics{WaitingQueue: 0}), inFlight: 2},
				{inFlight: 5},
			},
			want: []float64{1, 1 - 0.16, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runScorer(t, queueScorer{}, &Request{}, newEndpoints(tc.states...))
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKVCacheScorer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		states []epState
		want   []float64
	}{
		{
			name: "one minus utilisation, clamped",
			states: []epState{
				{metrics: fresh(pool.Metrics{KVCacheUsage: 0})},
				{metrics: fresh(pool.Metrics{KVCacheUsage: 0.25})},
				{metrics: fresh(pool.Metrics{KVCacheUsage: 1.3})},
				{metrics: fresh(pool.Metrics{KVCacheUsage: -0.2})},
				{metrics: fresh(pool.Metrics{KVCacheUsage: math.NaN()})},
			},
			want: []float64{1, 0.75, 0, 1, 1},
		},
		{
			name: "stale or missing metrics are neutral",
			states: []epState{
				{metrics: stale(pool.Metrics{KVCacheUsage: 0.9})},
				{},
			},
			want: []float64{1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runScorer(t, kvCacheScorer{}, &Request{}, newEndpoints(tc.states...))
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoRAScorer(t *testing.T) {
	t.Parallel()
	ladder := []epState{
		{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"sql"}, MaxAdapters: 2})},                                      // active
		{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"chat"}, MaxAdapters: 2})},                                     // free slot
		{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"a", "b"}, WaitingAdapters: []string{"sql"}, MaxAdapters: 2})}, // waiting, full
		{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"a", "b"}, MaxAdapters: 2})},                                   // full
		{metrics: fresh(pool.Metrics{})}, // no LoRA info
		{metrics: fresh(pool.Metrics{ActiveAdapters: []string{"a"}, WaitingAdapters: []string{"sql"}, MaxAdapters: 4})}, // waiting, free slot
	}
	tests := []struct {
		name   string
		model  string
		states []epState
		want   []float64
	}{
		{name: "adapter ladder", model: "sql", states: ladder, want: []float64{1, 0.8, 0.6, 0, 1, 0.8}},
		{name: "base model is neutral everywhere", model: "llama-3-8b", states: ladder, want: []float64{1, 1, 1, 1, 1, 1}},
		{
			name:  "stale adapter state is still used",
			model: "sql",
			states: []epState{
				{metrics: stale(pool.Metrics{ActiveAdapters: []string{"sql"}, MaxAdapters: 1})},
				{metrics: stale(pool.Metrics{ActiveAdapters: []string{"x"}, MaxAdapters: 1})},
				{},
			},
			want: []float64{1, 0, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runScorer(t, loraScorer{}, &Request{Model: tc.model}, newEndpoints(tc.states...))
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInFlightScorer(t *testing.T) {
	t.Parallel()
	m := fresh(pool.Metrics{})
	tests := []struct {
		name   string
		states []epState
		want   []float64
	}{
		{
			name:   "all equal",
			states: []epState{{metrics: m, inFlight: 2, inFlightTokens: 100}, {metrics: m, inFlight: 2, inFlightTokens: 100}},
			want:   []float64{1, 1},
		},
		{
			name:   "requests only (no token estimates)",
			states: []epState{{metrics: m}, {metrics: m, inFlight: 2}, {metrics: m, inFlight: 4}},
			want:   []float64{1, 0.5, 0},
		},
		{
			name:   "requests and tokens averaged",
			states: []epState{{metrics: m, inFlight: 4, inFlightTokens: 100}, {metrics: m, inFlight: 1, inFlightTokens: 4000}, {metrics: m, inFlight: 1, inFlightTokens: 100}},
			want:   []float64{0.5, 0.5, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runScorer(t, inFlightScorer{}, &Request{}, newEndpoints(tc.states...))
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrefixScorer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		match       []int
		totalBlocks int
		want        []float64
	}{
		{name: "fraction of blocks held", match: []int{0, 2, 8}, totalBlocks: 8, want: []float64{0, 0.25, 1}},
		{name: "prompt shorter than a block", match: []int{0, 0}, totalBlocks: 0, want: []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &cycle{match: tc.match, totalBlocks: tc.totalBlocks}
			got := make([]float64, len(tc.match))
			for i := range got {
				got[i] = -1
			}
			prefixScorer{}.score(c, got)
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}
