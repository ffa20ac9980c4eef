package admission

import "sync/atomic"

// Budget is a shared byte budget, such as the memory all in-flight request
// bodies may hold together. It is lock-free and safe for concurrent use.
type Budget struct {
	limit  int64
	used   atomic.Int64
	queued atomic.Int64
}

// NewBudget returns a budget of limit bytes; limit <= 0 means unlimited.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit}
}

// TryReserve takes n bytes and reports whether they were available; on
// false nothing is taken. Every true result must be paired with a
// [Budget.Release] of n.
func (b *Budget) TryReserve(n int64) bool {
	if n <= 0 {
		return true
	}
	if b.used.Add(n) > b.limit && b.limit > 0 {
		b.used.Add(-n)
		return false
	}
	return true
}

// Release returns n bytes taken by [Budget.TryReserve].
func (b *Budget) Release(n int64) {
	if n > 0 {
		b.used.Add(-n)
	}
}

// Used returns the bytes taken.
func (b *Budget) Used() int64 { return b.used.Load() }

// AddQueued records n more (or, negative, fewer) of the used bytes as held
// by requests waiting in flow control, so a front end refused by the budget
// can tell a full queue (429) from a gateway at capacity (503).
func (b *Budget) AddQueued(n int64) {
	if b != nil {
		b.queued.Add(n)
	}
}

// Queued returns the bytes recorded with [Budget.AddQueued].
func (b *Budget) Queued() int64 {
	if b == nil {
		return 0
	}
	return b.queued.Load()
}
