package admission

import "time"

// Saturation is a pool's load as a [Queue] sees it at one instant.
type Saturation struct {
	// Level gates dispatch: at 1 or more (or NaN) the pool is saturated.
	// Each endpoint's share is capped at 1, so one backed-up endpoint
	// cannot hide the headroom of the others.
	Level float64
	// Demand is the same load uncapped: above 1 when the endpoints hold
	// more than they can serve. The queue adds its own queued requests
	// (times QueueUnit) before reporting it to the [Observer].
	Demand float64
	// QueueUnit is how much one more request adds to Demand (for example
	// 1/(queue-depth threshold × endpoints)).
	QueueUnit float64
	// Endpoints is the number of ready endpoints in the pool (present and
	// not failing their scrapes); 0 means "no endpoints", which is not the
	// same as saturated.
	Endpoints int
	// Stale is the number of endpoints whose metrics are missing or older
	// than the staleness window (they count as full in Level).
	Stale int
	// Capacity is how many requests the pool can hold at once when the
	// signal knows it (for example a per-endpoint request limit times the
	// ready endpoints); 0 means unknown (a [Queue] under
	// [FairnessReservedShare] then reserves nothing).
	Capacity int
}

// isSaturated reports whether level closes the gate; NaN does, so a broken
// signal errs on the side of protecting the pool.
func isSaturated(level float64) bool { return !(level < 1) }

// Signal reports a pool's saturation. Implementations read live counters
// and scraped metrics; they must be safe for concurrent use and cheap (a
// [Queue] asks once per arrival and once per dispatch).
type Signal interface {
	Saturation(now time.Time) Saturation
}

// SignalFunc adapts a function to [Signal].
type SignalFunc func(now time.Time) Saturation

// Saturation calls f.
func (f SignalFunc) Saturation(now time.Time) Saturation { return f(now) }
