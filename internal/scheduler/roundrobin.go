package scheduler

import (
	"sync/atomic"

	"github.com/infergate/infergate/internal/pool"
)

// roundRobin is [StrategyRoundRobin]: the n-th request goes to candidate
// n mod (number of candidates).
//
// Signal: none but a shared request counter. Score: none.
//
// With a stable candidate set every endpoint gets every len(cands)-th
// request; when the set changes (an endpoint excluded for a retry or
// filtered out) the rotation continues over the new set, so the split stays
// even over time but is not a strict cycle. Complexity: O(1); one atomic
// add per pick; no allocation.
type roundRobin struct {
	next atomic.Uint64
}

var _ baseline = (*roundRobin)(nil)

func (r *roundRobin) choose(cands []*pool.Endpoint, _ Rand) int {
	n := r.next.Add(1) - 1
	return int(n % uint64(len(cands)))
}
