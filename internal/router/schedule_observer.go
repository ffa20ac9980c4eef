package router

import "time"

// ScheduleObserver receives the outcome of every pick the router makes, for
// metrics such as the scheduling-duration histogram and the prefix-cache hit
// ratio. It is called on the request path: it must be fast, must not block,
// must not allocate and must be safe for concurrent use. A telemetry exporter
// implements it; the router knows only this port.
type ScheduleObserver interface {
	// ObserveSchedule records one pick that took d: success is false when no
	// endpoint could be picked (then endpointName and port are ""). Labels
	// are the target model, the picked endpoint's name and namespace, and
	// the port of its address.
	ObserveSchedule(d time.Duration, success bool, targetModel, endpointName, endpointNamespace, port string)
	// ObservePrefix records the prefix-cache hit of a successful pick: the
	// share of the prompt's blocks the endpoint holds, and their size in
	// bytes.
	ObservePrefix(hitRatio float64, hitBytes int)
}

// observe hands the outcome of a pick for d that took elapsed to the
// observer, when there is one; err is the pick's error, nil on success (then
// d.Result holds the pick).
func (r *Router) observe(d *Decision, elapsed time.Duration, err error) {
	if r.observer == nil {
		return
	}
	if err != nil {
		r.observer.ObserveSchedule(elapsed, false, d.TargetModel, "", "", "")
		return
	}
	res := &d.Result
	r.observer.ObserveSchedule(elapsed, true, d.TargetModel, res.Endpoint.Name(), "", portOf(res.Endpoint.Address()))
	if res.PrefixTotalBlocks > 0 {
		ratio := float64(res.PrefixMatchBlocks) / float64(res.PrefixTotalBlocks)
		r.observer.ObservePrefix(ratio, res.PrefixMatchBlocks*r.blockBytes(res.Endpoint))
	}
}
