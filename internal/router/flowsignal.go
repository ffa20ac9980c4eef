package router

import (
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// FlowSignal is a pool's saturation as its flow control reads it
// ([admission.Signal]): the scheduler's ([scheduler.Scheduler.Load]: the
// scraped queue depth and KV-cache use corrected by the gateway's requests
// sent and ended since the scrape, stale metrics counting as full only past
// the staleness window, endpoints whose scrapes fail counting as absent)
// and, when limits are set, the gateway's own in-flight requests and tokens
// per endpoint, whichever is higher. The per-endpoint limits average over
// all endpoints of the snapshot. With MaxRequestsPerEndpoint set, the
// pool's capacity is that many requests per ready endpoint.
type FlowSignal struct {
	// Store is the pool.
	Store *pool.Store
	// Scheduler is the pool's scheduler.
	Scheduler *scheduler.Scheduler
	// QueueDepthThreshold, when > 0, replaces the scheduler's queue-depth
	// threshold for this signal: the effective queue at which an endpoint
	// counts as full for dispatch.
	QueueDepthThreshold int
	// MaxRequestsPerEndpoint, when > 0, makes an endpoint full at that
	// many requests outstanding from this gateway, and is taken as the
	// replicas' batch size when reading their scraped queues (requests
	// sent since a scrape into free batch slots do not wait).
	MaxRequestsPerEndpoint int
	// MaxTokensPerEndpoint, when > 0, makes an endpoint full at that many
	// estimated tokens outstanding from this gateway.
	MaxTokensPerEndpoint int64
}

var _ admission.Signal = FlowSignal{}

// Saturation implements [admission.Signal]; it allocates nothing.
func (f FlowSignal) Saturation(now time.Time) admission.Saturation {
	snap := f.Store.Load()
	l := f.Scheduler.Load(snap, now, f.QueueDepthThreshold, f.MaxRequestsPerEndpoint)
	s := admission.Saturation{Level: l.Level, Demand: l.Demand, QueueUnit: l.PerRequest, Endpoints: l.Ready, Stale: l.Stale}
	if l.Ready == 0 || (f.MaxRequestsPerEndpoint <= 0 && f.MaxTokensPerEndpoint <= 0) {
		return s
	}
	if f.MaxRequestsPerEndpoint > 0 {
		s.Capacity = f.MaxRequestsPerEndpoint * l.Ready
	}
	var cLevel, cDemand float64
	for _, ep := range snap.Endpoints() {
		score := 0.0
		if f.MaxRequestsPerEndpoint > 0 {
			score = float64(max(ep.InFlight(), 0)) / float64(f.MaxRequestsPerEndpoint)
		}
		if f.MaxTokensPerEndpoint > 0 {
			score = max(score, float64(max(ep.InFlightTokens(), 0))/float64(f.MaxTokensPerEndpoint))
		}
		cLevel += min(score, 1)
		cDemand += score
	}
	n := float64(snap.Len())
	s.Level = max(s.Level, cLevel/n)
	s.Demand = max(s.Demand, cDemand/n)
	return s
}
