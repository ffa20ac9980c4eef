package scheduler

import "github.com/infergate/infergate/internal/pool"

// leastRequest is [StrategyLeastRequest]: the candidate with the fewest
// requests this gateway has in flight to it, ties broken uniformly at
// random by reservoir sampling (as in maxScore).
//
// Signal: the gateway's own in-flight request counters (no scrape lag, no
// token weighting, no engine metrics). Complexity: O(n) in the number of
// candidates; no allocation.
type leastRequest struct{}

var _ baseline = leastRequest{}

func (leastRequest) choose(cands []*pool.Endpoint, rnd Rand) int {
	best, ties := 0, 1
	low := cands[0].InFlight()
	for i := 1; i < len(cands); i++ {
		switch n := cands[i].InFlight(); {
		case n < low:
			best, ties, low = i, 1, n
		case n == low:
			ties++
			if rnd.Float64()*float64(ties) < 1 {
				best = i
			}
		}
	}
	return best
}
