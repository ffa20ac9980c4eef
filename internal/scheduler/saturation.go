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
	score, _ := s.endpointLoad(ep, now, s.cfg.QueueDepthThreshold, 0, false)
	return min(score, 1)
}

// endpointLoad is one endpoint's uncapped saturation score with queueDepth
// as the queue-depth threshold, and whether it is 1 because the endpoint's
// metrics are stale, missing or failing. With sinceScrape the queue is
// [flowQueue], which counts the requests that ended since the scrape.
func (s *Scheduler) endpointLoad(ep *pool.Endpoint, now time.Time, queueDepth, batchSlots int, sinceScrape bool) (float64, bool) {
	m := ep.Metrics()
	if !isFresh(m, now, s.cfg.Staleness) || ep.ScrapeFailures() >= int64(s.cfg.MaxScrapeFailures) {
		return 1, true
	}
	q := effectiveQueue(m.WaitingQueue, m.Running, max(ep.InFlight(), 0))
	if sinceScrape {
		ended, sent, atScrape := ep.SinceScrape(m)
		waiting, free := scrapedSlots(m.WaitingQueue, m.Running, atScrape, batchSlots)
		q = flowQueue(waiting, ended, sent, free)
	}
	return max(q/float64(queueDepth), clamp01(m.KVCacheUsage)/s.cfg.KVCacheThreshold), false
}

// scrapedSlots reads an endpoint's queue and free batch slots at its last
// scrape. Requests the gateway had outstanding there that the replica did
// not report yet (in transit) join the replica's queue, as in
// effectiveQueue, unless the batch had room for them: with batchSlots
// unknown (0), or while the replica reports requests waiting, the batch
// counts as full; with batchSlots known and none waiting, the slots the
// replica did not report running take the requests in transit first and
// are free for the requests sent since.
func scrapedSlots(waiting, running int, atScrape int64, batchSlots int) (queued, free int64) {
	w, r := int64(max(waiting, 0)), int64(max(running, 0))
	unseen := max(atScrape-w-r, 0)
	if batchSlots <= 0 || w > 0 {
		return w + unseen, 0
	}
	room := max(int64(batchSlots)-r, 0)
	return max(unseen-room, 0), max(room-unseen, 0)
}

// PoolLoad is a pool's state as flow control reads it ([Scheduler.Load]).
type PoolLoad struct {
	// Ready is the number of endpoints whose scrapes are not failing
	// (fewer than MaxScrapeFailures in a row): the others are unreachable
	// or broken rather than busy, and count as absent.
	Ready int
	// Level is the mean over ready endpoints of each one's saturation
	// score capped at 1; 1 when none is ready.
	Level float64
	// Demand is the same mean with scores not capped (above 1 when
	// endpoints hold more than their queue-depth threshold).
	Demand float64
	// Stale counts ready endpoints whose metrics are missing or older than
	// the staleness window; they score 1.
	Stale int
	// PerRequest is what one more queued request adds to Demand:
	// 1/(queue-depth threshold × ready endpoints); 0 when none is ready.
	PerRequest float64
}

// Load reads the pool for flow control, with queueDepth as the queue-depth
// threshold (0 or less: the configured one) and batchSlots as each
// replica's batch size (0: unknown). Scores are those of
// [Scheduler.Saturation] except that the queue is estimated by [flowQueue],
// so a finished request frees its slot at once rather than at the next
// scrape and, with batchSlots known, a request sent since the scrape into a
// batch that had room does not count as waiting; and that endpoints with
// failing scrapes are left out (see [PoolLoad.Ready]). Load allocates
// nothing.
func (s *Scheduler) Load(snap *pool.Snapshot, now time.Time, queueDepth, batchSlots int) PoolLoad {
	if queueDepth <= 0 {
		queueDepth = s.cfg.QueueDepthThreshold
	}
	var l PoolLoad
	if snap != nil {
		for _, ep := range snap.Endpoints() {
			if ep.ScrapeFailures() >= int64(s.cfg.MaxScrapeFailures) {
				continue
			}
			score, isStale := s.endpointLoad(ep, now, queueDepth, batchSlots, true)
			l.Ready++
			l.Level += min(score, 1)
			l.Demand += score
			if isStale {
				l.Stale++
			}
		}
	}
	if l.Ready == 0 {
		return PoolLoad{Level: 1, Demand: 1}
	}
	n := float64(l.Ready)
	l.Level, l.Demand, l.PerRequest = l.Level/n, l.Demand/n, 1/(float64(queueDepth)*n)
	return l
}

// flowQueue estimates an endpoint's waiting queue from its last scrape
// (waiting requests and free batch slots, see scrapedSlots) and this
// gateway's requests there since: each of the ended requests freed a batch
// slot that a waiting request took, and the sent ones wait unless a slot
// was free for them.
func flowQueue(waiting, ended, sent, free int64) float64 {
	w, ended, sent, free := max(waiting, 0), max(ended, 0), max(sent, 0), max(free, 0)
	free += max(ended-w, 0)
	return float64(max(w-ended, 0) + max(sent-free, 0))
}
