package scheduler

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

func TestFilters(t *testing.T) {
	t.Parallel()
	ok := fresh(pool.Metrics{})
	old := stale(pool.Metrics{})
	tests := []struct {
		name      string
		states    []epState
		exclude   []int // indices into states
		want      []string
		wantFresh bool
	}{
		{
			name:      "nothing to drop",
			states:    []epState{{metrics: ok}, {metrics: ok}},
			want:      []string{"ep0", "ep1"},
			wantFresh: true,
		},
		{
			name:      "excluded endpoints are dropped",
			states:    []epState{{metrics: ok}, {metrics: ok}, {metrics: ok}},
			exclude:   []int{0, 2},
			want:      []string{"ep1"},
			wantFresh: true,
		},
		{
			name:    "excluding everything leaves nothing",
			states:  []epState{{metrics: ok}, {metrics: ok}},
			exclude: []int{0, 1},
			want:    []string{},
		},
		{
			name:      "stale and never-scraped endpoints dropped while fresh ones exist",
			states:    []epState{{metrics: old}, {metrics: ok}, {}, {metrics: ok}},
			want:      []string{"ep1", "ep3"},
			wantFresh: true,
		},
		{
			name:      "no fresh endpoint: keep all (fail open)",
			states:    []epState{{metrics: old}, {}},
			want:      []string{"ep0", "ep1"},
			wantFresh: false,
		},
		{
			name:      "endpoints failing scrapes repeatedly are avoided",
			states:    []epState{{metrics: ok, scrapeFailures: 3}, {metrics: ok, scrapeFailures: 2}},
			want:      []string{"ep1"},
			wantFresh: true,
		},
		{
			name:      "all failing scrapes: keep all (fail open)",
			states:    []epState{{metrics: ok, scrapeFailures: 5}, {metrics: ok, scrapeFailures: 3}},
			want:      []string{"ep0", "ep1"},
			wantFresh: true,
		},
		{
			name:      "ejected endpoints are avoided",
			states:    []epState{{metrics: ok, ejected: true}, {metrics: ok}, {metrics: ok, ejected: true}},
			want:      []string{"ep1"},
			wantFresh: true,
		},
		{
			name:      "all ejected: keep all (fail open)",
			states:    []epState{{metrics: ok, ejected: true}, {metrics: ok, ejected: true}},
			want:      []string{"ep0", "ep1"},
			wantFresh: true,
		},
		{
			name:      "an ejected endpoint is dropped even when it is the only fresh one",
			states:    []epState{{metrics: ok, ejected: true}, {metrics: old}},
			want:      []string{"ep1"},
			wantFresh: false,
		},
		{
			name:      "failing filter runs before the stale filter",
			states:    []epState{{metrics: ok, scrapeFailures: 4}, {metrics: old}},
			want:      []string{"ep1"},
			wantFresh: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eps := newEndpoints(tc.states...)
			req := &Request{}
			for _, i := range tc.exclude {
				req.Exclude = append(req.Exclude, eps[i])
			}
			c := newTestCycle(t, DefaultConfig(), req, eps)
			if diff := cmp.Diff(tc.want, names(c.cands)); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			if len(c.cands) > 0 && c.fresh != tc.wantFresh {
				t.Errorf("fresh = %v, want %v", c.fresh, tc.wantFresh)
			}
			if len(c.metrics) != len(c.cands) {
				t.Fatalf("metrics has %d entries for %d candidates", len(c.metrics), len(c.cands))
			}
			for i, ep := range c.cands {
				if c.metrics[i] != ep.Metrics() {
					t.Errorf("metrics[%d] do not belong to %s", i, ep.Name())
				}
			}
		})
	}
}
