package scheduler

import (
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// Saturation returns how saturated the pool in snap is; 1 or more means
// saturated, and admission then sheds sheddable requests.
//
// Like upstream's utilization detector, each endpoint scores
// max(q/QueueDepthThreshold, kv/KVCacheThreshold) and the pool's saturation
// is the unweighted mean over its endpoints. Endpoints with missing or stale
// metrics, or failing scrapes, score 1: the scheduler cannot tell how much
// headroom they have. An empty pool is saturated.
//
// Two differences from upstream. First, q is the effective queue (scraped
// waiting requests plus the gateway's requests dispatched since the scrape;
// see effectiveQueue), so a burst between scrapes registers at once instead
// of a scrape interval later. Second, each endpoint's score is capped at 1:
// one badly backed-up replica must not push the mean over 1 while others
// have headroom, since Pick routes around it. The pool is therefore
// saturated exactly when every endpoint is full (or unknown).
//
// Saturation is safe for concurrent use and allocates nothing.
func (s *Scheduler) Saturation(snap *pool.Snapshot, now time.Time) float64 {
	if snap == nil || snap.Len() == 0 {
		return 1
	}
	sum := 0.0
	for _, ep := range snap.Endpoints() {
		sum += s.endpointSaturation(ep, now)
	}
	return sum / float64(snap.Len())
}

// endpointSaturation is one endpoint's saturation score in [0,1].
func (s *Scheduler) endpointSaturation(ep *pool.Endpoint, now time.Time) float64 {
	m := ep.Metrics()
	if !isFresh(m, now, s.cfg.Staleness) || ep.ScrapeFailures() >= int64(s.cfg.MaxScrapeFailures) {
		return 1
	}
	q := effectiveQueue(m.WaitingQueue, m.Running, max(ep.InFlight(), 0))
	score := max(q/float64(s.cfg.QueueDepthThreshold), clamp01(m.KVCacheUsage)/s.cfg.KVCacheThreshold)
	return min(score, 1)
}
