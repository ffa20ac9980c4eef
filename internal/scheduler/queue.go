package scheduler

// queueScorer prefers endpoints with short effective queues, and punishes a
// long queue much harder than a short one.
//
// Signal: the effective queue depth q of each candidate: the scraped
// waiting queue plus the gateway's requests the scrape has not seen yet
// (see effectiveQueue). With stale or missing metrics, q is the gateway's
// in-flight count alone.
//
// Score: with g = (q − q_min)/QueueDepthThreshold, the distance from the
// least-loaded candidate in thresholds, score = 1 − min(1, g²). Range
// [0,1]; the least-loaded candidate (every candidate, when all are equal)
// scores 1. Like upstream's queue scorer it is relative to the other
// candidates, so a uniformly busy pool is not penalised, but it is scaled by
// the threshold instead of by the observed spread: upstream's min-max charges
// the full weight for a one-request gap among idle replicas, while here that
// gap costs 0.04 and a whole threshold's gap costs everything. The square
// keeps the penalty negligible while a replica has headroom, so prefix and
// LoRA affinity decide, and makes it climb steeply as the gap approaches the
// threshold, so an overloaded affinity target loses to an idle replica.
//
// Complexity: O(n) in the number of candidates; no allocation.
type queueScorer struct{}

var _ scorer = queueScorer{}

func (queueScorer) score(c *cycle, out []float64) {
	qmin := c.queue[0]
	for _, q := range c.queue[1:] {
		qmin = min(qmin, q)
	}
	t := float64(c.cfg.QueueDepthThreshold)
	for i, q := range c.queue {
		g := (q - qmin) / t
		out[i] = 1 - min(1, g*g)
	}
}
