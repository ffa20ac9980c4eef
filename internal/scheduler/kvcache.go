package scheduler

// kvCacheScorer prefers endpoints with free KV-cache space.
//
// Signal: the scraped KV-cache utilisation kv (0 to 1) of each candidate.
//
// Score: 1 − kv, clamped to [0,1], as upstream. A replica whose cache is
// nearly full must preempt or queue new work; a nearly empty one can also
// keep more prefix blocks cached for longer.
//
// Stale or missing data: every candidate scores 1 (neutral). The stale
// filter leaves either only fresh candidates or only stale ones, so a
// neutral value never favours an endpoint merely for lacking data.
//
// Complexity: O(n) in the number of candidates; no allocation.
type kvCacheScorer struct{}

var _ scorer = kvCacheScorer{}

func (kvCacheScorer) score(c *cycle, out []float64) {
	for i, m := range c.metrics {
		if !c.fresh || m == nil {
			out[i] = 1
			continue
		}
		out[i] = 1 - clamp01(m.KVCacheUsage)
	}
}

// clamp01 limits v to [0,1]; NaN becomes 0.
func clamp01(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return min(v, 1)
}
