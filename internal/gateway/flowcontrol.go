package gateway

import (
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// newFlow builds a pool's flow control from the config's flowControl
// section, in the native proxy's mode. An ext_proc front end passes its own
// mode per request (config.FlowControl.ModeFor(config.FrontEndExtProc) as
// admission.Item.Mode), so both front ends share one queue per pool.
func (g *Gateway) newFlow(name string, st *pool.Store, sched *scheduler.Scheduler) *admission.Queue {
	fc := g.cfg.FlowControl
	return admission.NewQueue(admission.Options{
		Pool: name,
		Mode: admission.Mode(fc.ModeFor(config.FrontEndProxy)),
		Signal: router.FlowSignal{
			Store:                  st,
			Scheduler:              sched,
			QueueDepthThreshold:    fc.QueueDepthThreshold,
			MaxRequestsPerEndpoint: fc.MaxRequestsPerEndpoint,
			MaxTokensPerEndpoint:   fc.MaxTokensPerEndpoint,
		},
		TTL:                fc.TTL.Duration,
		MaxRequestsPerBand: fc.MaxRequestsPerBand,
		Ordering:           admission.Ordering(fc.Ordering),
		Fairness:           admission.Fairness(fc.Fairness),
		ReservationLinger:  fc.ReservationLinger.Duration,
		NoEndpointHold:     fc.NoEndpointHold.Duration,
		Observer:           g.flowObs,
		Budget:             g.budget,
		// Scrapes publish no event: while requests wait, saturation is
		// re-read five times per scrape interval (10ms by default).
		Recheck: g.cfg.Scrape.Interval.Duration / 5,
	})
}

// queueRetryAfter is the Retry-After of a request refused because queued
// requests hold the body budget: the longest of the pools' drain estimates
// (the body is refused before its pool is known).
func (g *Gateway) queueRetryAfter() time.Duration {
	after := time.Second
	for _, sp := range g.servedPools() {
		if n, _ := sp.flow.Queued(); n > 0 {
			after = max(after, sp.flow.RetryAfter())
		}
	}
	return after
}
