package admission

import (
	"container/heap"
	"time"
)

// waiter is one queued request.
type waiter struct {
	item Item
	mode Mode
	enq  time.Time
	key  time.Time // ordering key: arrival (fcfs) or deadline (edf)
	seq  uint64    // arrival order, the tie-breaker
	idx  int       // index in its flow's heap; -1 once removed
	flow *flow

	stop    func() bool   // cancels the TTL (or hold) timer
	done    chan struct{} // closed once decided
	err     error         // set before done is closed; nil: admitted
	waited  time.Duration // set before done is closed
	pending bool          // admitted and counted in the queue's pending dispatches
}

// before orders waiters: earlier key, then earlier arrival.
func (w *waiter) before(o *waiter) bool {
	if !w.key.Equal(o.key) {
		return w.key.Before(o.key)
	}
	return w.seq < o.seq
}

// flow is the queue of one fairness ID within one band.
type flow struct {
	id   string
	band *band
	q    waitHeap
}

// band is one priority level: its flows, their round-robin order and the
// requests it has admitted that are not over yet, by fairness ID.
type band struct {
	priority int
	flows    map[string]*flow
	active   []*flow // flows with queued requests, in round-robin order
	next     int     // index into active of the next flow to serve
	n        int     // queued requests
	// inflight counts the band's admitted requests not yet released, by
	// fairness ID (entries at zero are deleted, so memory follows the
	// requests, not the IDs ever seen); held is their sum.
	inflight map[string]int
	held     int
	// ended records, under a reservation linger, when each fairness ID's
	// last request in flight ended; [band.activeFlows] counts the ID as
	// active until the linger has passed and forgets it then.
	ended map[string]time.Time
}

func newBand(priority int) *band {
	return &band{
		priority: priority, flows: make(map[string]*flow),
		inflight: make(map[string]int), ended: make(map[string]time.Time),
	}
}

// hold counts an admitted request of fairness ID id.
func (b *band) hold(id string) {
	b.inflight[id]++
	b.held++
}

// maxLingering bounds how many fairness IDs one band remembers under a
// reservation linger: [band.activeFlows] walks them on every dispatch
// decision, and the IDs come from clients. Past it, an ID whose last
// request ends lends its share at once, as without a linger.
const maxLingering = 1024

// unhold ends a request counted by hold at now. With linger > 0, an ID
// whose last request in flight ended is remembered as ended at now.
func (b *band) unhold(id string, now time.Time, linger time.Duration) {
	n := b.inflight[id] - 1
	if n <= 0 {
		delete(b.inflight, id)
		if linger > 0 && len(b.ended) < maxLingering {
			b.ended[id] = now
		}
	} else {
		b.inflight[id] = n
	}
	b.held--
}

// activeFlows returns how many fairness IDs of the band have requests
// queued or in flight, or had their last one end less than linger before
// now. IDs whose linger has passed are forgotten, so memory follows the
// requests of the last linger, not the IDs ever seen.
func (b *band) activeFlows(now time.Time, linger time.Duration) int {
	n := len(b.inflight)
	for _, f := range b.active {
		if b.inflight[f.id] == 0 {
			n++
		}
	}
	for id, t := range b.ended {
		switch {
		case b.inflight[id] > 0 || b.flows[id] != nil:
			delete(b.ended, id) // active again, counted above
		case now.Sub(t) < linger:
			n++
		default:
			delete(b.ended, id)
		}
	}
	return n
}

// share is a flow's share of the pool under [FairnessReservedShare]:
// per requests in flight (0: no share applies), among active flows of
// the band, lingering ones included (counted once per dispatch decision,
// so a decision costs one pass over the band's flows however many are
// held at their share).
type share struct {
	per    int
	active int
}

// withinShare reports whether fairness ID id may have one more request
// admitted under sh: below its share always, at or above it only while no
// other flow of the band is active.
func (b *band) withinShare(id string, sh share) bool {
	if sh.per <= 0 || b.inflight[id] < sh.per {
		return true
	}
	return sh.active <= 1 // id itself is active: it has requests in flight
}

// push queues w in its fairness ID's flow.
func (b *band) push(w *waiter) {
	f := b.flows[w.item.FairnessID]
	if f == nil {
		f = &flow{id: w.item.FairnessID, band: b}
		b.flows[f.id] = f
	}
	if len(f.q) == 0 {
		b.active = append(b.active, f)
	}
	w.flow = f
	heap.Push(&f.q, w)
	b.n++
}

// remove takes w out of its flow; an emptied flow is forgotten, so memory
// follows the queued requests, not the fairness IDs ever seen.
func (b *band) remove(w *waiter) {
	f := w.flow
	heap.Remove(&f.q, w.idx)
	w.idx = -1
	b.n--
	if len(f.q) > 0 {
		return
	}
	for i, a := range b.active {
		if a == f {
			b.active = append(b.active[:i], b.active[i+1:]...)
			if i < b.next {
				b.next--
			}
			break
		}
	}
	if b.next >= len(b.active) {
		b.next = 0
	}
	delete(b.flows, f.id)
}

// peek returns the waiter the band would serve next under fairness f, or
// nil when none may be served: under the fair-share policies, the flow
// with the fewest requests in flight goes first (ties in round-robin
// order), and under [FairnessReservedShare] a flow at or above its share
// (sh) waits while another flow of the band is active.
func (b *band) peek(f Fairness, sh share) *waiter {
	if len(b.active) == 0 {
		return nil
	}
	switch f {
	case FairnessFairShare, FairnessReservedShare:
		var best *flow
		bestN := 0
		for i := range b.active {
			a := b.active[(b.next+i)%len(b.active)]
			n := b.inflight[a.id]
			if f == FairnessReservedShare && !b.withinShare(a.id, sh) {
				continue
			}
			if best == nil || n < bestN {
				best, bestN = a, n
			}
		}
		if best == nil {
			return nil
		}
		return best.q[0]
	case FairnessGlobalStrict:
		best := b.active[0].q[0]
		for _, a := range b.active[1:] {
			if a.q[0].before(best) {
				best = a.q[0]
			}
		}
		return best
	}
	return b.active[b.next].q[0]
}

// served advances the round robin past the flow of a dispatched waiter.
// Called before the waiter is removed.
func (b *band) served(w *waiter) {
	for i, a := range b.active {
		if a == w.flow {
			b.next = (i + 1) % len(b.active)
			return
		}
	}
}

// waitHeap orders one flow's waiters (container/heap).
type waitHeap []*waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].before(h[j]) }
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.idx = len(*h)
	*h = append(*h, w)
}

func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
