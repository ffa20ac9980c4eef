package scheduler

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

// pickNames runs n picks with a fresh Request each and returns the picked
// endpoints' names; acquire charges each pick to its endpoint, as the proxy
// does, and never releases it.
func pickNames(t *testing.T, s *Scheduler, snap *pool.Snapshot, n int, acquire bool, exclude ...*pool.Endpoint) []string {
	t.Helper()
	out := make([]string, 0, n)
	for range n {
		req := &Request{Model: "llama", Prompt: chatPrompt(1, 1, 2048), Exclude: exclude}
		res, err := s.Pick(req, snap, testNow)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		s.Commit(req, res.Endpoint)
		if acquire {
			res.Endpoint.Acquire(0)
		}
		out = append(out, res.Endpoint.Name())
	}
	return out
}

func TestBaselineStrategies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		strategy Strategy
		rnd      Rand
		states   []epState
		exclude  []int // indices of excluded endpoints
		picks    int
		acquire  bool
		want     []string
	}{
		{
			name:     "round-robin cycles in order, ignoring load and prefix",
			strategy: StrategyRoundRobin,
			states: []epState{
				{metrics: fresh(pool.Metrics{WaitingQueue: 50})},
				{metrics: fresh(pool.Metrics{})},
				{metrics: fresh(pool.Metrics{})},
			},
			picks: 7,
			want:  []string{"ep0", "ep1", "ep2", "ep0", "ep1", "ep2", "ep0"},
		},
		{
			name:     "round-robin skips excluded endpoints",
			strategy: StrategyRoundRobin,
			states:   []epState{{metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}},
			exclude:  []int{1},
			picks:    4,
			want:     []string{"ep0", "ep2", "ep0", "ep2"},
		},
		{
			name:     "round-robin runs the health filters first",
			strategy: StrategyRoundRobin,
			states: []epState{
				{metrics: fresh(pool.Metrics{}), scrapeFailures: 3},
				{metrics: fresh(pool.Metrics{})},
				{metrics: stale(pool.Metrics{})},
			},
			picks: 3,
			want:  []string{"ep1", "ep1", "ep1"},
		},
		{
			name:     "random maps the draw onto the candidates",
			strategy: StrategyRandom,
			rnd:      fixedRand(0.7),
			states:   []epState{{metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}},
			picks:    2,
			want:     []string{"ep2", "ep2"},
		},
		{
			name:     "random survives a draw of 1",
			strategy: StrategyRandom,
			rnd:      fixedRand(1),
			states:   []epState{{metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}},
			picks:    1,
			want:     []string{"ep1"},
		},
		{
			name:     "least-request fills the emptiest endpoint first",
			strategy: StrategyLeastRequest,
			rnd:      fixedRand(0.99), // never replace the first tied candidate
			states: []epState{
				{metrics: fresh(pool.Metrics{}), inFlight: 2},
				{metrics: fresh(pool.Metrics{}), inFlight: 0},
				{metrics: fresh(pool.Metrics{}), inFlight: 1},
			},
			picks:   4,
			acquire: true,
			want:    []string{"ep1", "ep1", "ep2", "ep0"},
		},
		{
			name:     "least-request breaks ties at random",
			strategy: StrategyLeastRequest,
			rnd:      fixedRand(0), // always replace: the last tied candidate wins
			states:   []epState{{metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}, {metrics: fresh(pool.Metrics{})}},
			picks:    1,
			want:     []string{"ep2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eps := newEndpoints(tc.states...)
			var exclude []*pool.Endpoint
			for _, i := range tc.exclude {
				exclude = append(exclude, eps[i])
			}
			cfg := DefaultConfig()
			cfg.Strategy = tc.strategy
			rnd := tc.rnd
			if rnd == nil {
				rnd = newSeededRand(7)
			}
			s := New(cfg, rnd)
			got := pickNames(t, s, pool.NewSnapshot(eps), tc.picks, tc.acquire, exclude...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("picks mismatch (-want +got):\n%s", diff)
			}
			if n := s.PrefixIndexSize(); n != 0 {
				t.Errorf("prefix index holds %d entries under %s, want 0", n, tc.strategy)
			}
		})
	}
}

func TestBaselineResult(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Strategy = StrategyRoundRobin
	s := New(cfg, nil)
	eps := idle(2)
	res, err := s.Pick(&Request{Model: "llama", Prompt: chatPrompt(1, 1, 2048)}, pool.NewSnapshot(eps), testNow)
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	want := Result{Endpoint: eps[0], Candidates: 2}
	if diff := cmp.Diff(want, res, cmp.Comparer(func(a, b *pool.Endpoint) bool { return a == b })); diff != "" {
		t.Errorf("Result mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Pick(&Request{Exclude: eps}, pool.NewSnapshot(eps), testNow); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("Pick with every endpoint excluded: err = %v, want ErrNoEndpoint", err)
	}
}

func TestStrategyDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Strategy
		want Strategy
	}{
		{name: "empty means default", in: "", want: StrategyDefault},
		{name: "unknown means default", in: "fastest", want: StrategyDefault},
		{name: "round-robin kept", in: StrategyRoundRobin, want: StrategyRoundRobin},
		{name: "least-request kept", in: StrategyLeastRequest, want: StrategyLeastRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Strategy = tc.in
			if got := New(cfg, nil).Config().Strategy; got != tc.want {
				t.Errorf("strategy %q became %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, st := range Strategies() {
		if !st.Valid() {
			t.Errorf("Strategies() lists %q, which is not Valid", st)
		}
	}
}
