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

// band is one priority level: its flows and their round-robin order.
type band struct {
	priority int
	flows    map[string]*flow
	active   []*flow // flows with queued requests, in round-robin order
	next     int     // index into active of the next flow to serve
	n        int     // queued requests
}

func newBand(priority int) *band {
	return &band{priority: priority, flows: make(map[string]*flow)}
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

// peek returns the waiter the band would serve next under fairness f.
func (b *band) peek(f Fairness) *waiter {
	if len(b.active) == 0 {
		return nil
	}
	if f == FairnessGlobalStrict {
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
	if len(b.active) == 0 {
		return
	}
	if b.active[b.next] == w.flow {
		b.next = (b.next + 1) % len(b.active)
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
