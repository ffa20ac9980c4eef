package admission

import "time"

// Outcome is how a request left flow control, with upstream's (llm-d)
// outcome label values.
type Outcome string

// Outcomes.
const (
	// OutcomeDispatched: admitted, at once or after waiting.
	OutcomeDispatched Outcome = "Dispatched"
	// OutcomeRejectedCapacity: refused at arrival, the band full (queue
	// mode) or the pool saturated (shed mode).
	OutcomeRejectedCapacity Outcome = "RejectedCapacity"
	// OutcomeRejectedNoEndpoints: refused or evicted because the pool had
	// no endpoint for the no-endpoint hold.
	OutcomeRejectedNoEndpoints Outcome = "RejectedNoEndpoints"
	// OutcomeRejectedOther: refused at arrival for another reason
	// (shutting down).
	OutcomeRejectedOther Outcome = "RejectedOther"
	// OutcomeEvictedTTL: queued past its TTL.
	OutcomeEvictedTTL Outcome = "EvictedTTL"
	// OutcomeEvictedContextCancelled: the client went away while queued.
	OutcomeEvictedContextCancelled Outcome = "EvictedContextCancelled"
	// OutcomeEvictedOther: evicted for another reason (shutting down).
	OutcomeEvictedOther Outcome = "EvictedOther"
)

// Observer receives flow control's events; telemetry implements it. The
// calls are made while the queue's lock is held: implementations must be
// fast and must not call back into the queue.
type Observer interface {
	// FlowQueued reports that a request entered (delta +1) or left (-1)
	// pool's queue.
	FlowQueued(pool string, it Item, delta int)
	// FlowOutcome reports how a request left flow control and how long it
	// spent there.
	FlowOutcome(pool string, it Item, o Outcome, waited time.Duration)
	// FlowSaturation reports, at each evaluation, the pool's uncapped
	// saturation with its queued demand included, and how many endpoints
	// have stale or missing metrics.
	FlowSaturation(pool string, saturation float64, stale int)
}

// nopObserver discards everything.
type nopObserver struct{}

func (nopObserver) FlowQueued(string, Item, int)                     {}
func (nopObserver) FlowOutcome(string, Item, Outcome, time.Duration) {}
func (nopObserver) FlowSaturation(string, float64, int)              {}
