package admission

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Mode is how a front end admits requests into a saturated pool.
type Mode string

// Modes.
const (
	// ModeOff admits everything; the replicas queue.
	ModeOff Mode = "off"
	// ModeShed rejects sheddable requests (priority < 0) while the pool is
	// saturated and admits the rest (upstream's legacy admission).
	ModeShed Mode = "shed"
	// ModeQueue holds requests in the gateway while the pool is saturated
	// and dispatches them by priority, fairness ID and deadline as soon as
	// it is not.
	ModeQueue Mode = "queue"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeOff || m == ModeShed || m == ModeQueue }

// Ordering orders the requests of one flow (fairness ID) within a band.
type Ordering string

// Orderings.
const (
	// OrderFCFS serves a flow's requests in arrival order.
	OrderFCFS Ordering = "fcfs"
	// OrderEDF serves the earliest deadline first: arrival plus the
	// request's TTFT objective ([Item.SLO]); requests without one come
	// after, by arrival plus the TTL.
	OrderEDF Ordering = "edf"
)

// Fairness chooses among the flows of one band.
type Fairness string

// Fairness policies.
const (
	// FairnessRoundRobin serves the band's flows in turn, one request each.
	FairnessRoundRobin Fairness = "round-robin"
	// FairnessGlobalStrict serves the band's best request whatever its
	// flow (by the ordering's key), as one queue.
	FairnessGlobalStrict Fairness = "global-strict"
	// FairnessFairShare serves first the flow with the fewest requests in
	// flight (admitted and not yet released), ties in round-robin order:
	// a flow that holds more than its share of the pool waits while a
	// flow below it waits. It lends idle capacity (work-conserving).
	FairnessFairShare Fairness = "fair-share"
	// FairnessReservedShare is [FairnessFairShare] that also holds back a
	// flow at or above its share of the pool's capacity while another
	// flow of its band is active (has requests queued or in flight), even
	// when the pool has room: each active flow finds its share free
	// without waiting for another flow's requests to end, at the cost of
	// leaving the share a light flow does not use idle. The share is
	// the pool's capacity ([Saturation.Capacity]) left by other bands,
	// divided by the band's active flows; while the signal reports no
	// capacity it behaves as [FairnessFairShare] (a capacity measured
	// from saturation could not be corrected while the reservation keeps
	// the pool below it). A flow stays active for [Options.ReservationLinger]
	// after its last request ended, so that a light flow between two of
	// its requests does not lend its share to a heavy flow, which would
	// keep it until the heavy flow's own requests end.
	FairnessReservedShare Fairness = "reserved-share"
)

// Valid reports whether f is a known fairness policy.
func (f Fairness) Valid() bool {
	switch f {
	case FairnessRoundRobin, FairnessGlobalStrict, FairnessFairShare, FairnessReservedShare:
		return true
	}
	return false
}

// Defaults of [Options].
const (
	// DefaultTTL is how long a request may wait, as upstream.
	DefaultTTL = 60 * time.Second
	// DefaultMaxRequestsPerBand bounds each band's queue, as upstream.
	DefaultMaxRequestsPerBand = 5000
	// DefaultReservationLinger is how long a flow keeps its reserved
	// share after its last request ended ([FairnessReservedShare]).
	DefaultReservationLinger = time.Second
	// defaultRecheck is how often saturation is re-read while requests are
	// queued: scraped metrics publish no event, so a pool that drains
	// without a gateway request finishing (another gateway's traffic, a
	// fresh scrape) is noticed this late at most.
	defaultRecheck = 10 * time.Millisecond
)

// Item describes one request to [Queue.Enqueue].
type Item struct {
	// Mode overrides the queue's mode for this request (a front end's
	// effective mode); "" uses [Options.Mode].
	Mode Mode
	// Priority is the objective's priority; higher goes first, negative
	// is sheddable.
	Priority int
	// FairnessID names the request's flow; requests of one band are
	// shared fairly among flows.
	FairnessID string
	// SLO is the request's TTFT objective (0: none); with [OrderEDF] the
	// deadline is arrival plus SLO.
	SLO time.Duration
	// Bytes is the request body's size, already reserved in the shared
	// body budget by the front end; the queue reports it.
	Bytes int64
	// Model and TargetModel label the request's metrics.
	Model, TargetModel string
}

// Options configure a [Queue].
type Options struct {
	// Pool names the pool (the inference_pool label).
	Pool string
	// Mode is the mode of items that name none; "" means [ModeQueue].
	Mode Mode
	// Signal reports the pool's saturation; required unless every item
	// uses [ModeOff].
	Signal Signal
	// TTL bounds a request's wait; 0 means [DefaultTTL].
	TTL time.Duration
	// MaxRequestsPerBand bounds each priority band's queue; 0 means
	// [DefaultMaxRequestsPerBand].
	MaxRequestsPerBand int
	// Ordering orders a flow's requests; "" means [OrderFCFS].
	Ordering Ordering
	// Fairness chooses among a band's flows; "" means
	// [FairnessFairShare].
	Fairness Fairness
	// NoEndpointHold is how long a request waits for an endpoint when the
	// pool has none, before [ErrNoEndpoints]; 0 answers at once.
	NoEndpointHold time.Duration
	// Clock is the time source; nil means [SystemClock].
	Clock Clock
	// Observer receives flow-control events; nil discards them.
	Observer Observer
	// Recheck is how often saturation is re-read while requests wait; 0
	// means 10ms.
	Recheck time.Duration
	// Budget is the body-byte budget the front end reserved the items'
	// bytes in; the queue marks the bytes it holds there
	// ([Budget.AddQueued]). Nil marks nothing.
	Budget *Budget
	// ReservationLinger is how long a flow counts as active under
	// [FairnessReservedShare] after its last request ended; 0 means
	// [DefaultReservationLinger], negative means not at all.
	ReservationLinger time.Duration
}

// Queue is one pool's flow control: the gate between a parsed request and
// the endpoint pick. Every front end calls [Queue.Enqueue] after parsing
// and routing a request to its pool and before picking an endpoint:
//
//	t, err := q.Enqueue(ctx, admission.Item{Priority: p, FairnessID: id, SLO: slo, Bytes: n})
//	if err != nil {
//		// *Rejection (answer per admission.RetryAfter and the error) or
//		// the context's error (client gone).
//	}
//	defer t.Release()      // when the request is over
//	... pick an endpoint and count the request on it ...
//	t.Routed()             // lets the next queued request through
//
// In [ModeQueue] a request is admitted at once while the pool is not
// saturated and nothing is queued; otherwise it waits on a channel (no
// polling) in its priority band, behind higher bands (strict priority),
// sharing its band fairly among fairness IDs, ordered within its flow by
// arrival or deadline. Dispatch resumes as soon as the pool is not
// saturated: on every finished request, on every arrival and, while
// anything waits, every Recheck. One dispatched request at a time may be
// between admission and [Ticket.Routed], so the saturation the next
// dispatch reads includes it.
//
// Queue starts no goroutine of its own: timers fire on the [Clock], and
// [Queue.Close] stops them. A nil *Queue admits everything.
type Queue struct {
	pool     string
	mode     Mode
	sig      Signal
	ttl      time.Duration
	hold     time.Duration
	recheck  time.Duration
	maxBand  int
	order    Ordering
	fairness Fairness
	linger   time.Duration // reservation linger; 0 unless reserved-share
	clock    Clock
	obs      Observer
	budget   *Budget

	mu          sync.Mutex
	bands       []*band // by priority, highest first; kept while empty
	queued      int
	queuedBytes int64
	pending     int // dispatched from the queue, not yet routed
	held        int // admitted requests not yet released (all bands)
	seq         uint64
	closed      bool
	stopRecheck func() bool // non-nil while a recheck is scheduled
	drain       drainMeter
}

// NewQueue returns a pool's queue.
func NewQueue(o Options) *Queue {
	q := &Queue{
		pool: o.Pool, mode: o.Mode, sig: o.Signal, ttl: o.TTL, hold: o.NoEndpointHold,
		recheck: o.Recheck, maxBand: o.MaxRequestsPerBand, order: o.Ordering,
		fairness: o.Fairness, clock: o.Clock, obs: o.Observer, budget: o.Budget,
	}
	if q.mode == "" {
		q.mode = ModeQueue
	}
	if q.ttl <= 0 {
		q.ttl = DefaultTTL
	}
	if q.recheck <= 0 {
		q.recheck = defaultRecheck
	}
	if q.maxBand <= 0 {
		q.maxBand = DefaultMaxRequestsPerBand
	}
	if q.order == "" {
		q.order = OrderFCFS
	}
	if q.fairness == "" {
		q.fairness = FairnessFairShare
	}
	if q.fairness == FairnessReservedShare {
		q.linger = o.ReservationLinger
		if q.linger == 0 {
			q.linger = DefaultReservationLinger
		}
		q.linger = max(q.linger, 0)
	}
	if q.clock == nil {
		q.clock = SystemClock{}
	}
	if q.obs == nil {
		q.obs = nopObserver{}
	}
	if q.sig == nil {
		q.sig = SignalFunc(func(time.Time) Saturation { return Saturation{Endpoints: 1} })
	}
	return q
}

// Mode returns the mode of items that name none.
func (q *Queue) Mode() Mode {
	if q == nil {
		return ModeOff
	}
	return q.mode
}

// Ticket is an admitted request's hold on flow control. The zero Ticket
// (mode off) holds nothing. A Ticket is used by one goroutine.
type Ticket struct {
	q       *Queue
	w       *waiter // nil when admitted without waiting
	band    *band   // the band counting the request in flight
	fid     string  // its fairness ID there
	waited  time.Duration
	held    bool
	pending bool
}

// Waited returns how long the request waited in the queue (0 when admitted
// at once).
func (t *Ticket) Waited() time.Duration { return t.waited }

// Routed records that the request has been counted on an endpoint (or
// will not be), so the saturation signal sees it and the next queued
// request may be dispatched. It is idempotent and implied by Release.
func (t *Ticket) Routed() {
	if t == nil || !t.pending {
		return
	}
	t.pending = false
	q := t.q
	q.mu.Lock()
	q.pending--
	q.dispatchLocked(q.clock.Now())
	q.mu.Unlock()
}

// Release ends the request's hold: it counts as drained and the queue
// re-evaluates dispatch. Call it once the request is over; it is
// idempotent.
func (t *Ticket) Release() {
	if t == nil || !t.held {
		return
	}
	t.held = false
	q := t.q
	q.mu.Lock()
	if t.pending {
		t.pending = false
		q.pending--
	}
	now := q.clock.Now()
	if t.band != nil {
		t.band.unhold(t.fid, now, q.linger)
		q.held--
		t.band = nil
	}
	q.drain.add(now)
	q.dispatchLocked(now)
	q.mu.Unlock()
}

// Enqueue admits a request, waiting in the queue when the mode and the
// pool's state say so. It returns a [Ticket] to [Ticket.Routed] and
// [Ticket.Release], or an error: a [*Rejection] wrapping [ErrShed],
// [ErrQueueFull], [ErrTTLExpired], [ErrNoEndpoints] or [ErrShuttingDown],
// or ctx's error when ctx ended while the request waited (it has left the
// queue by then).
func (q *Queue) Enqueue(ctx context.Context, it Item) (Ticket, error) {
	mode := it.Mode
	if mode == "" && q != nil {
		mode = q.mode
	}
	if q == nil || mode == ModeOff || mode == "" {
		return Ticket{}, nil
	}
	now := q.clock.Now()
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.obs.FlowOutcome(q.pool, it, OutcomeRejectedOther, 0)
		return Ticket{}, reject(ErrShuttingDown, time.Second)
	}
	s := q.evaluateLocked(now)
	if s.Endpoints > 0 {
		switch {
		case mode == ModeShed && it.Priority < 0 && isSaturated(s.Level):
			q.mu.Unlock()
			q.obs.FlowOutcome(q.pool, it, OutcomeRejectedCapacity, 0)
			return Ticket{}, reject(ErrShed, time.Second)
		case mode == ModeShed, !isSaturated(s.Level) && q.admitAtOnceLocked(it, s, now):
			b := q.bandLocked(it.Priority)
			b.hold(it.FairnessID)
			q.held++
			q.mu.Unlock()
			q.obs.FlowOutcome(q.pool, it, OutcomeDispatched, 0)
			return Ticket{q: q, held: true, band: b, fid: it.FairnessID}, nil
		}
	} else if q.hold <= 0 {
		q.mu.Unlock()
		q.obs.FlowOutcome(q.pool, it, OutcomeRejectedNoEndpoints, 0)
		return Ticket{}, reject(ErrNoEndpoints, time.Second)
	}
	b := q.bandLocked(it.Priority)
	if b.n >= q.maxBand {
		after := q.drain.retryAfter(now, q.queued, q.ttl)
		q.mu.Unlock()
		q.obs.FlowOutcome(q.pool, it, OutcomeRejectedCapacity, 0)
		return Ticket{}, reject(ErrQueueFull, after)
	}
	timeout := q.ttl
	if s.Endpoints == 0 {
		timeout = min(q.hold, q.ttl)
	}
	w := q.pushLocked(b, it, mode, now, timeout)
	q.dispatchLocked(now)
	q.mu.Unlock()
	return q.wait(ctx, w)
}

// wait blocks until w is decided or ctx ends.
func (q *Queue) wait(ctx context.Context, w *waiter) (Ticket, error) {
	select {
	case <-w.done:
	case <-ctx.Done():
		q.mu.Lock()
		if w.idx >= 0 {
			waited := q.clock.Now().Sub(w.enq)
			q.removeLocked(w)
			q.decideLocked(w, ctx.Err(), OutcomeEvictedContextCancelled, waited)
			q.dispatchLocked(q.clock.Now())
		}
		q.mu.Unlock()
		<-w.done
	}
	if w.err != nil {
		return Ticket{}, w.err
	}
	t := Ticket{q: q, w: w, waited: w.waited, held: true, pending: w.pending, band: w.flow.band, fid: w.item.FairnessID}
	if ctx.Err() != nil {
		// Admitted as the client left: give the slot back at once.
		t.Release()
		return Ticket{}, ctx.Err()
	}
	return t, nil
}

// expire ends w's wait when its timer fires: after the no-endpoint hold
// with no endpoint, 503; after the TTL, 429 (503 when the pool has no
// endpoint then). A hold that ends with endpoints present re-arms the
// timer for the rest of the TTL.
func (q *Queue) expire(w *waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if w.idx < 0 {
		return
	}
	now := q.clock.Now()
	waited := now.Sub(w.enq)
	s := q.sig.Saturation(now)
	switch {
	case s.Endpoints == 0:
		q.removeLocked(w)
		q.decideLocked(w, reject(ErrNoEndpoints, q.hold), OutcomeRejectedNoEndpoints, waited)
	case waited < q.ttl:
		w.stop = q.clock.AfterFunc(q.ttl-waited, func() { q.expire(w) })
		return
	default:
		q.removeLocked(w)
		after := q.drain.retryAfter(now, q.queued, q.ttl)
		q.decideLocked(w, reject(ErrTTLExpired, after), OutcomeEvictedTTL, waited)
	}
	q.dispatchLocked(now)
}

// Close rejects every queued request and every later one with
// [ErrShuttingDown] and stops the queue's timers. Requests already
// admitted are unaffected.
func (q *Queue) Close() {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.stopRecheck != nil {
		q.stopRecheck()
		q.stopRecheck = nil
	}
	now := q.clock.Now()
	q.rejectAllLocked(now, reject(ErrShuttingDown, time.Second), OutcomeEvictedOther)
}

// Queued returns the number of requests waiting and their body bytes.
func (q *Queue) Queued() (int, int64) {
	if q == nil {
		return 0, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued, q.queuedBytes
}

// RetryAfter returns the Retry-After for a request refused now: the time
// the queued requests take to drain at the measured rate, clamped to
// [1s, TTL] (the TTL when nothing drains).
func (q *Queue) RetryAfter() time.Duration {
	if q == nil {
		return time.Second
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drain.retryAfter(q.clock.Now(), q.queued, q.ttl)
}

// evaluateLocked reads the signal and reports the uncapped saturation,
// queued demand included.
func (q *Queue) evaluateLocked(now time.Time) Saturation {
	s := q.sig.Saturation(now)
	demand := s.Demand + float64(q.queued)*s.QueueUnit
	if s.Endpoints == 0 {
		demand = 1 // upstream's reading of an empty pool
	}
	if math.IsNaN(demand) {
		demand = 1
	}
	q.obs.FlowSaturation(q.pool, demand, s.Stale)
	return s
}

// dispatchLocked admits the next queued request while the pool can take
// it and no dispatched request is still on its way to an endpoint.
func (q *Queue) dispatchLocked(now time.Time) {
	for q.queued > 0 && q.pending == 0 && !q.closed {
		s := q.evaluateLocked(now)
		if s.Endpoints == 0 {
			if q.hold <= 0 {
				q.rejectAllLocked(now, reject(ErrNoEndpoints, time.Second), OutcomeRejectedNoEndpoints)
			}
			return
		}
		b, w := q.nextLocked(s, now)
		if w == nil || w.mode == ModeQueue && isSaturated(s.Level) {
			return
		}
		b.served(w)
		q.removeLocked(w)
		b.hold(w.item.FairnessID)
		q.held++
		w.pending = true
		q.pending++
		q.decideLocked(w, nil, OutcomeDispatched, now.Sub(w.enq))
	}
}

// nextLocked returns the waiter to serve next: the highest non-empty band,
// then its fairness policy; nil when that band's flows are all held at
// their share. The queue must not be empty.
func (q *Queue) nextLocked(s Saturation, now time.Time) (*band, *waiter) {
	for _, b := range q.bands {
		if b.n > 0 {
			return b, b.peek(q.fairness, q.shareLocked(b, s, now))
		}
	}
	panic("admission: nextLocked on an empty queue")
}

// shareLocked returns a flow's share of the pool in band b under
// [FairnessReservedShare]: the capacity other bands leave, divided by
// b's active flows (lingering ones included), rounded up; no share under
// other policies or while the capacity is unknown.
func (q *Queue) shareLocked(b *band, s Saturation, now time.Time) share {
	if q.fairness != FairnessReservedShare || s.Capacity <= 0 {
		return share{}
	}
	avail := max(s.Capacity-(q.held-b.held), 1)
	n := max(b.activeFlows(now, q.linger), 1)
	return share{per: (avail + n - 1) / n, active: n}
}

// admitAtOnceLocked reports whether it may skip the queue of a pool that
// is not saturated: when nothing is queued, or, under the fair-share
// policies, when nothing queued would be served before it (no higher band
// has queued requests, its own flow has none, and every other flow queued
// in its band that may be served holds more requests in flight), and its
// share allows it. The second case spares a light flow the round trip
// through the queue (and the wait for a dispatch still on its way to an
// endpoint) while a heavy flow's backlog waits at its share.
func (q *Queue) admitAtOnceLocked(it Item, s Saturation, now time.Time) bool {
	fair := q.fairness == FairnessFairShare || q.fairness == FairnessReservedShare
	if q.queued > 0 && !fair {
		return false
	}
	if q.queued == 0 && q.fairness != FairnessReservedShare {
		return true
	}
	for _, b := range q.bands {
		if b.priority > it.Priority && b.n > 0 {
			return false
		}
	}
	b := q.bandLocked(it.Priority)
	sh := q.shareLocked(b, s, now)
	if !b.withinShare(it.FairnessID, sh) {
		return false
	}
	if b.n == 0 {
		return true
	}
	if b.flows[it.FairnessID] != nil {
		return false // its own flow has requests queued: they go first
	}
	mine := b.inflight[it.FairnessID]
	for _, f := range b.active {
		if q.fairness == FairnessReservedShare && !b.withinShare(f.id, sh) {
			continue
		}
		if b.inflight[f.id] <= mine {
			return false
		}
	}
	return true
}

// bandLocked returns the band of priority, creating it in order.
func (q *Queue) bandLocked(priority int) *band {
	i, found := slices.BinarySearchFunc(q.bands, priority, func(b *band, p int) int {
		switch {
		case b.priority > p:
			return -1
		case b.priority < p:
			return 1
		}
		return 0
	})
	if found {
		return q.bands[i]
	}
	b := newBand(priority)
	q.bands = slices.Insert(q.bands, i, b)
	return b
}

// pushLocked queues a new waiter for it in b, timed out after timeout.
func (q *Queue) pushLocked(b *band, it Item, mode Mode, now time.Time, timeout time.Duration) *waiter {
	q.seq++
	w := &waiter{item: it, mode: mode, enq: now, key: now, seq: q.seq, done: make(chan struct{})}
	if q.order == OrderEDF {
		if it.SLO > 0 {
			w.key = now.Add(it.SLO)
		} else {
			w.key = now.Add(q.ttl)
		}
	}
	b.push(w)
	q.queued++
	q.queuedBytes += it.Bytes
	q.budget.AddQueued(it.Bytes)
	// The timers are armed before the observer hears of the waiter, so
	// whoever sees it queued also sees it timed.
	w.stop = q.clock.AfterFunc(timeout, func() { q.expire(w) })
	q.scheduleRecheckLocked()
	q.obs.FlowQueued(q.pool, it, 1)
	return w
}

// removeLocked takes a queued waiter out of the queue.
func (q *Queue) removeLocked(w *waiter) {
	w.flow.band.remove(w)
	q.queued--
	q.queuedBytes -= w.item.Bytes
	q.budget.AddQueued(-w.item.Bytes)
	q.obs.FlowQueued(q.pool, w.item, -1)
	if w.stop != nil {
		w.stop()
	}
}

// decideLocked ends a removed waiter's wait with err (nil: admitted).
func (q *Queue) decideLocked(w *waiter, err error, o Outcome, waited time.Duration) {
	w.err, w.waited = err, waited
	q.obs.FlowOutcome(q.pool, w.item, o, waited)
	close(w.done)
}

// rejectAllLocked ends every queued request's wait with err.
func (q *Queue) rejectAllLocked(now time.Time, err error, o Outcome) {
	for _, b := range q.bands {
		for b.n > 0 {
			w := b.peek(FairnessGlobalStrict, share{})
			q.removeLocked(w)
			q.decideLocked(w, err, o, now.Sub(w.enq))
		}
	}
}

// scheduleRecheckLocked makes sure saturation is re-read while requests
// wait.
func (q *Queue) scheduleRecheckLocked() {
	if q.queued == 0 || q.stopRecheck != nil || q.closed {
		return
	}
	q.stopRecheck = q.clock.AfterFunc(q.recheck, q.onRecheck)
}

// onRecheck is the recheck timer's callback.
func (q *Queue) onRecheck() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopRecheck = nil
	q.dispatchLocked(q.clock.Now())
	q.scheduleRecheckLocked()
}

// Report reads the pool's saturation and reports it to the observer, so
// the saturation gauge stays current while no request arrives.
func (q *Queue) Report() {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.evaluateLocked(q.clock.Now())
}
