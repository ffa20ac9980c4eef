package scheduler

import "github.com/infergate/infergate/internal/pool"

// randomPick is [StrategyRandom]: a uniformly random candidate.
//
// Signal: none. Complexity: O(1), one draw from the scheduler's Rand; no
// allocation.
type randomPick struct{}

var _ baseline = randomPick{}

func (randomPick) choose(cands []*pool.Endpoint, rnd Rand) int {
	i := int(rnd.Float64() * float64(len(cands)))
	return min(max(i, 0), len(cands)-1) // guard a Rand that returns 1
}
