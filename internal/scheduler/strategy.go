package scheduler

import "github.com/infergate/infergate/internal/pool"

// Strategy names how a [Scheduler] chooses among the candidates left after
// filtering.
type Strategy string

// The strategies. Only [StrategyDefault] uses the scorers, the prefix index
// and scraped metrics; the others are baselines for benchmarks (and a plain
// load balancer for fleets where affinity does not matter). Every strategy
// runs the same filters first (exclusion, scrape failures, staleness), so a
// comparison between them differs only in the choice itself.
const (
	// StrategyDefault is infergate's weighted scorers (see [Weights]).
	StrategyDefault Strategy = "default"
	// StrategyRoundRobin cycles through the candidates per request, like a
	// Kubernetes Service in IPVS round-robin mode.
	StrategyRoundRobin Strategy = "round-robin"
	// StrategyRandom picks a candidate uniformly at random, like a
	// Kubernetes Service in iptables mode.
	StrategyRandom Strategy = "random"
	// StrategyLeastRequest picks the candidate with the fewest requests in
	// flight from this gateway, breaking ties at random.
	StrategyLeastRequest Strategy = "least-request"
)

// Strategies lists every strategy, the default first.
func Strategies() []Strategy {
	return []Strategy{StrategyDefault, StrategyRoundRobin, StrategyRandom, StrategyLeastRequest}
}

// Valid reports whether s is one of [Strategies]. The empty strategy is not
// valid here; [New] reads it as [StrategyDefault].
func (s Strategy) Valid() bool {
	switch s {
	case StrategyDefault, StrategyRoundRobin, StrategyRandom, StrategyLeastRequest:
		return true
	}
	return false
}

// baseline chooses one of the filtered candidates without scoring them.
//
// choose returns an index into cands, which is non-empty. It must not
// allocate, must not retain cands and must be safe for concurrent use.
type baseline interface {
	choose(cands []*pool.Endpoint, rnd Rand) int
}

// newBaseline returns the picker of a baseline strategy, or nil for
// [StrategyDefault] (and for unknown strategies, which [New] treats as the
// default).
func newBaseline(s Strategy) baseline {
	switch s {
	case StrategyRoundRobin:
		return new(roundRobin)
	case StrategyRandom:
		return randomPick{}
	case StrategyLeastRequest:
		return leastRequest{}
	}
	return nil
}
