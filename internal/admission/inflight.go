package admission

import "sync/atomic"

// InFlight caps how many requests are inside the gateway at once. It is a
// lock-free counter, safe for concurrent use.
type InFlight struct {
	limit int64
	n     atomic.Int64
}

// NewInFlight returns a cap of limit requests; limit <= 0 means no cap.
func NewInFlight(limit int) *InFlight {
	return &InFlight{limit: int64(limit)}
}

// TryAcquire takes a slot and reports whether one was free. Every true
// result must be paired with one [InFlight.Release].
func (f *InFlight) TryAcquire() bool {
	if f.n.Add(1) > f.limit && f.limit > 0 {
		f.n.Add(-1)
		return false
	}
	return true
}

// Release returns a slot taken by [InFlight.TryAcquire].
func (f *InFlight) Release() { f.n.Add(-1) }

// Len returns the number of slots taken.
func (f *InFlight) Len() int { return int(f.n.Load()) }
