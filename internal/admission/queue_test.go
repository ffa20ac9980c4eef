package admission

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manual Clock: timers fire, synchronously, when Advance
// passes their time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock by d and runs the timers due, in time order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// fakeSignal is a settable pool state.
type fakeSignal struct {
	mu sync.Mutex
	s  Saturation
}

func (f *fakeSignal) Saturation(time.Time) Saturation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s
}

func (f *fakeSignal) set(s Saturation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s = s
}

// recorder is an Observer that records outcomes and signals every queue
// change on a channel.
type recorder struct {
	mu       sync.Mutex
	outcomes []Outcome
	demand   float64
	changed  chan int // queue size after each change
	size     int
}

func newRecorder() *recorder { return &recorder{changed: make(chan int, 1024)} }

func (r *recorder) FlowQueued(_ string, _ Item, delta int) {
	r.mu.Lock()
	r.size += delta
	n := r.size
	r.mu.Unlock()
	r.changed <- n
}

func (r *recorder) FlowOutcome(_ string, _ Item, o Outcome, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
}

func (r *recorder) FlowSaturation(_ string, s float64, _ int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.demand = s
}

func (r *recorder) count(o Outcome) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.outcomes {
		if x == o {
			n++
		}
	}
	return n
}

// waitSize blocks until the queue has held n requests after a change.
func (r *recorder) waitSize(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-r.changed:
			if got == n {
				return
			}
		case <-timeout:
			t.Fatalf("queue never held %d requests", n)
		}
	}
}

var (
	idle = Saturation{Level: 0.2, Demand: 0.2, QueueUnit: 0.2, Endpoints: 1}
	full = Saturation{Level: 1, Demand: 1.4, QueueUnit: 0.2, Endpoints: 1}
)

type harness struct {
	t     *testing.T
	q     *Queue
	clock *fakeClock
	sig   *fakeSignal
	obs   *recorder
	res   chan result
}

type result struct {
	name string
	t    Ticket
	err  error
}

func newHarness(t *testing.T, o Options) *harness {
	h := &harness{t: t, clock: newFakeClock(), sig: &fakeSignal{s: full}, obs: newRecorder(), res: make(chan result, 100)}
	o.Clock, o.Signal, o.Observer = h.clock, h.sig, h.obs
	h.q = NewQueue(o)
	t.Cleanup(h.q.Close)
	return h
}

// enqueue starts a request that is expected to wait and returns once it is
// queued. When admitted it reports on h.res, then routes itself so the next
// one can be dispatched.
func (h *harness) enqueue(ctx context.Context, name string, it Item) {
	h.t.Helper()
	n, _ := h.q.Queued()
	go func() {
		tk, err := h.q.Enqueue(ctx, it)
		h.res <- result{name, tk, err}
		tk.Routed()
	}()
	h.obs.waitSize(h.t, n+1)
}

// next returns the next decided request, failing the test when none is
// decided within 10 seconds.
func (h *harness) next() result {
	h.t.Helper()
	select {
	case r := <-h.res:
		return r
	case <-time.After(10 * time.Second):
		h.t.Fatal("no request decided")
		return result{}
	}
}

// drainAll opens the gate and collects n results in dispatch order.
func (h *harness) drainAll(n int) []string {
	h.t.Helper()
	h.sig.set(idle)
	h.clock.Advance(defaultRecheck)
	var order []string
	for range n {
		select {
		case r := <-h.res:
			if r.err != nil {
				h.t.Fatalf("%s: %v", r.name, r.err)
			}
			order = append(order, r.name)
		case <-time.After(10 * time.Second):
			h.t.Fatalf("only %v dispatched", order)
		}
	}
	return order
}

func TestQueueAdmitsAtOnceWhenNotSaturated(t *testing.T) {
	h := newHarness(t, Options{})
	h.sig.set(idle)
	tk, err := h.q.Enqueue(context.Background(), Item{FairnessID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Waited() != 0 || !tk.held {
		t.Fatalf("ticket %+v, want held without waiting", tk)
	}
	tk.Routed()
	tk.Release()
	tk.Release() // idempotent
	if h.q.pending != 0 {
		t.Fatalf("pending %d after release", h.q.pending)
	}
	if h.obs.count(OutcomeDispatched) != 1 {
		t.Fatalf("outcomes %v", h.obs.outcomes)
	}
}

func TestQueueStrictPriority(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	for i, p := range []int{0, -1, 0, 10, 5, 10} {
		h.enqueue(ctx, string(rune('a'+i)), Item{Priority: p, FairnessID: "f"})
	}
	got := h.drainAll(6)
	want := []string{"d", "f", "e", "a", "c", "b"}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatch order %v, want %v", got, want)
	}
}

func TestQueueRoundRobinAmongFairnessIDs(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	for i := range 4 {
		h.enqueue(ctx, "heavy"+string(rune('1'+i)), Item{FairnessID: "heavy"})
	}
	h.enqueue(ctx, "light1", Item{FairnessID: "light"})
	h.enqueue(ctx, "light2", Item{FairnessID: "light"})
	got := h.drainAll(6)
	want := []string{"heavy1", "light1", "heavy2", "light2", "heavy3", "heavy4"}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatch order %v, want %v", got, want)
	}
}

func TestQueueGlobalStrictIsOneQueue(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessGlobalStrict})
	ctx := context.Background()
	for _, n := range []string{"a1", "a2", "b1", "a3"} {
		h.enqueue(ctx, n, Item{FairnessID: n[:1]})
		h.clock.Advance(time.Millisecond)
	}
	if got := h.drainAll(4); !slices.Equal(got, []string{"a1", "a2", "b1", "a3"}) {
		t.Fatalf("dispatch order %v", got)
	}
}

func TestQueueEarliestDeadlineFirst(t *testing.T) {
	h := newHarness(t, Options{Ordering: OrderEDF})
	ctx := context.Background()
	h.enqueue(ctx, "none", Item{FairnessID: "f"})
	h.enqueue(ctx, "slo5s", Item{FairnessID: "f", SLO: 5 * time.Second})
	h.clock.Advance(time.Second)
	h.enqueue(ctx, "slo1s", Item{FairnessID: "f", SLO: time.Second}) // deadline t+2s
	h.enqueue(ctx, "slo5s-later", Item{FairnessID: "f", SLO: 5 * time.Second})
	got := h.drainAll(4)
	want := []string{"slo1s", "slo5s", "slo5s-later", "none"}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatch order %v, want %v", got, want)
	}
}

func TestQueueFCFSIgnoresSLO(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	h.enqueue(ctx, "first", Item{FairnessID: "f", SLO: time.Hour})
	h.enqueue(ctx, "second", Item{FairnessID: "f", SLO: time.Millisecond})
	if got := h.drainAll(2); !slices.Equal(got, []string{"first", "second"}) {
		t.Fatalf("dispatch order %v", got)
	}
}

// TestQueueOneDispatchInFlight checks that a dispatched request must be
// routed before the next is let through, so the saturation the next
// dispatch reads includes it.
func TestQueueOneDispatchInFlight(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	var got []Ticket
	var mu sync.Mutex
	for range 2 {
		n, _ := h.q.Queued()
		go func() {
			tk, err := h.q.Enqueue(ctx, Item{FairnessID: "f"})
			mu.Lock()
			got = append(got, tk)
			mu.Unlock()
			h.res <- result{"x", tk, err}
		}()
		h.obs.waitSize(t, n+1)
	}
	h.sig.set(idle)
	h.clock.Advance(defaultRecheck)
	h.next()
	h.clock.Advance(defaultRecheck)
	if n, _ := h.q.Queued(); n != 1 {
		t.Fatalf("%d queued while the first dispatch is unrouted, want 1", n)
	}
	mu.Lock()
	first := got[0]
	mu.Unlock()
	first.Routed()
	r := h.next()
	if r.err != nil {
		t.Fatal(r.err)
	}
}

func TestQueueTTL(t *testing.T) {
	h := newHarness(t, Options{TTL: 30 * time.Second})
	h.enqueue(context.Background(), "late", Item{FairnessID: "f"})
	h.clock.Advance(29 * time.Second)
	select {
	case r := <-h.res:
		t.Fatalf("decided before the TTL: %v", r.err)
	default:
	}
	h.clock.Advance(time.Second)
	r := h.next()
	if !errors.Is(r.err, ErrTTLExpired) {
		t.Fatalf("err %v, want ErrTTLExpired", r.err)
	}
	// Nothing drained: Retry-After is the TTL.
	if after, ok := RetryAfter(r.err); !ok || after != 30*time.Second {
		t.Fatalf("Retry-After %v, want 30s", after)
	}
	if n, _ := h.q.Queued(); n != 0 || h.obs.count(OutcomeEvictedTTL) != 1 {
		t.Fatalf("queued %d, outcomes %v", n, h.obs.outcomes)
	}
}

func TestQueueRetryAfterFromDrainRate(t *testing.T) {
	h := newHarness(t, Options{TTL: time.Minute, MaxRequestsPerBand: 3})
	ctx := context.Background()
	// 40 requests finish over 10 s: 4 per second.
	h.sig.set(idle)
	for range 10 {
		for range 4 {
			tk, err := h.q.Enqueue(ctx, Item{FairnessID: "f"})
			if err != nil {
				t.Fatal(err)
			}
			tk.Release()
		}
		h.clock.Advance(time.Second)
	}
	h.sig.set(full)
	for i := range 3 {
		h.enqueue(ctx, "q"+string(rune('0'+i)), Item{FairnessID: "f"})
	}
	_, err := h.q.Enqueue(ctx, Item{FairnessID: "f"})
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("err %v, want ErrQueueFull", err)
	}
	// 3 queued plus this one at the measured rate: (3+1)/rate.
	rate := h.q.drain.rate(h.clock.Now())
	want := time.Duration(4 / rate * float64(time.Second))
	if after, _ := RetryAfter(err); after != want || want < time.Second {
		t.Fatalf("Retry-After %v, want %v (rate %.1f/s)", after, want, rate)
	}
	// A drain that slow is clamped to the TTL.
	h.clock.Advance(8 * time.Second) // only the last second's 4 remain: 0.4/s
	if after := h.q.RetryAfter(); after != 10*time.Second {
		t.Fatalf("Retry-After %v at 0.4/s with 3 queued, want 10s", after)
	}
}

func TestQueueBandCapacity(t *testing.T) {
	h := newHarness(t, Options{MaxRequestsPerBand: 2})
	ctx := context.Background()
	h.enqueue(ctx, "a", Item{FairnessID: "f"})
	h.enqueue(ctx, "b", Item{FairnessID: "g"})
	if _, err := h.q.Enqueue(ctx, Item{FairnessID: "h"}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third in a band of 2: %v, want ErrQueueFull", err)
	}
	h.enqueue(ctx, "other band", Item{Priority: 1, FairnessID: "f"})
	if got := h.drainAll(3); !slices.Equal(got, []string{"other band", "a", "b"}) {
		t.Fatalf("dispatch order %v", got)
	}
	if h.obs.count(OutcomeRejectedCapacity) != 1 {
		t.Fatalf("outcomes %v", h.obs.outcomes)
	}
}

func TestQueueBytesAccounted(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	h.enqueue(ctx, "a", Item{FairnessID: "f", Bytes: 100})
	h.enqueue(ctx, "b", Item{FairnessID: "f", Bytes: 50})
	if n, b := h.q.Queued(); n != 2 || b != 150 {
		t.Fatalf("queued %d requests, %d bytes; want 2, 150", n, b)
	}
	h.drainAll(2)
	if n, b := h.q.Queued(); n != 0 || b != 0 {
		t.Fatalf("queued %d requests, %d bytes after the drain", n, b)
	}
}

func TestQueueCancelLeavesAtOnce(t *testing.T) {
	h := newHarness(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	h.enqueue(ctx, "gone", Item{FairnessID: "f", Bytes: 10})
	h.enqueue(context.Background(), "stays", Item{FairnessID: "f"})
	cancel()
	r := h.next()
	if r.name != "gone" || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("%s: %v, want gone: context.Canceled", r.name, r.err)
	}
	if n, b := h.q.Queued(); n != 1 || b != 0 {
		t.Fatalf("queued %d (%d bytes), want 1 (0)", n, b)
	}
	if h.obs.count(OutcomeEvictedContextCancelled) != 1 {
		t.Fatalf("outcomes %v", h.obs.outcomes)
	}
	if got := h.drainAll(1); got[0] != "stays" {
		t.Fatalf("dispatched %v", got)
	}
}

func TestQueueCloseRejectsQueuedAndNew(t *testing.T) {
	h := newHarness(t, Options{})
	h.enqueue(context.Background(), "queued", Item{FairnessID: "f"})
	h.q.Close()
	r := h.next()
	if !errors.Is(r.err, ErrShuttingDown) {
		t.Fatalf("queued request: %v, want ErrShuttingDown", r.err)
	}
	if after, _ := RetryAfter(r.err); after != time.Second {
		t.Fatalf("Retry-After %v, want 1s", after)
	}
	h.sig.set(idle)
	if _, err := h.q.Enqueue(context.Background(), Item{}); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("new request: %v, want ErrShuttingDown", err)
	}
	if h.obs.count(OutcomeEvictedOther) != 1 || h.obs.count(OutcomeRejectedOther) != 1 {
		t.Fatalf("outcomes %v", h.obs.outcomes)
	}
}

func TestQueueNoEndpoints(t *testing.T) {
	t.Run("no hold", func(t *testing.T) {
		h := newHarness(t, Options{})
		h.sig.set(Saturation{Level: 1, Demand: 1})
		_, err := h.q.Enqueue(context.Background(), Item{Priority: 10})
		if !errors.Is(err, ErrNoEndpoints) {
			t.Fatalf("err %v, want ErrNoEndpoints", err)
		}
	})
	t.Run("hold expires", func(t *testing.T) {
		h := newHarness(t, Options{NoEndpointHold: 5 * time.Second})
		h.sig.set(Saturation{})
		h.enqueue(context.Background(), "held", Item{Priority: 10})
		h.clock.Advance(5 * time.Second)
		r := h.next()
		if !errors.Is(r.err, ErrNoEndpoints) {
			t.Fatalf("err %v, want ErrNoEndpoints", r.err)
		}
		if after, _ := RetryAfter(r.err); after != 5*time.Second {
			t.Fatalf("Retry-After %v, want the hold", after)
		}
	})
	t.Run("endpoint arrives", func(t *testing.T) {
		h := newHarness(t, Options{NoEndpointHold: 5 * time.Second, TTL: 10 * time.Second})
		h.sig.set(Saturation{})
		h.enqueue(context.Background(), "held", Item{Mode: ModeShed, Priority: -1})
		h.clock.Advance(2 * time.Second)
		if got := h.drainAll(1); got[0] != "held" {
			t.Fatalf("dispatched %v", got)
		}
	})
	t.Run("hold ends with endpoints but saturated: TTL applies", func(t *testing.T) {
		h := newHarness(t, Options{NoEndpointHold: time.Second, TTL: 10 * time.Second})
		h.sig.set(Saturation{})
		h.enqueue(context.Background(), "held", Item{})
		h.sig.set(full)
		h.clock.Advance(time.Second)
		select {
		case r := <-h.res:
			t.Fatalf("decided at the end of the hold with endpoints present: %v", r.err)
		default:
		}
		h.clock.Advance(9 * time.Second)
		if r := h.next(); !errors.Is(r.err, ErrTTLExpired) {
			t.Fatalf("err %v, want ErrTTLExpired", r.err)
		}
	})
}

func TestShedMode(t *testing.T) {
	h := newHarness(t, Options{Mode: ModeShed})
	ctx := context.Background()
	if _, err := h.q.Enqueue(ctx, Item{Priority: -1}); !errors.Is(err, ErrShed) {
		t.Fatalf("sheddable, saturated: %v, want ErrShed", err)
	}
	tk, err := h.q.Enqueue(ctx, Item{Priority: 0})
	if err != nil || tk.Waited() != 0 {
		t.Fatalf("critical, saturated: %v, waited %v", err, tk.Waited())
	}
	tk.Release()
	h.sig.set(Saturation{Level: 0.99, Endpoints: 1})
	if _, err := h.q.Enqueue(ctx, Item{Priority: -1}); err != nil {
		t.Fatalf("sheddable below saturation: %v", err)
	}
}

func TestOffModeAdmitsEverything(t *testing.T) {
	h := newHarness(t, Options{Mode: ModeOff})
	h.sig.set(Saturation{})
	if _, err := h.q.Enqueue(context.Background(), Item{Priority: -5}); err != nil {
		t.Fatal(err)
	}
	var nilQueue *Queue
	if _, err := nilQueue.Enqueue(context.Background(), Item{}); err != nil {
		t.Fatal(err)
	}
}

func TestQueueReportsUncappedDemand(t *testing.T) {
	h := newHarness(t, Options{})
	for i := range 5 {
		h.enqueue(context.Background(), string(rune('a'+i)), Item{})
	}
	h.clock.Advance(defaultRecheck)
	h.obs.mu.Lock()
	got := h.obs.demand
	h.obs.mu.Unlock()
	if want := 1.4 + 5*0.2; got < want-1e-9 || got > want+1e-9 {
		t.Fatalf("reported saturation %v, want %v (scraped demand plus queued)", got, want)
	}
	h.drainAll(5)
}

func TestQueueMarksQueuedBytesInBudget(t *testing.T) {
	b := NewBudget(1000)
	h := newHarness(t, Options{Budget: b})
	h.enqueue(context.Background(), "a", Item{FairnessID: "f", Bytes: 120})
	if b.Queued() != 120 {
		t.Fatalf("budget marks %d queued bytes, want 120", b.Queued())
	}
	h.drainAll(1)
	if b.Queued() != 0 {
		t.Fatalf("budget marks %d queued bytes after the dispatch, want 0", b.Queued())
	}
}

// admitNow admits n requests of it at once (the pool not saturated) and
// returns their tickets, routed and held.
func (h *harness) admitNow(n int, it Item) []Ticket {
	h.t.Helper()
	prev := h.sig.Saturation(time.Time{})
	h.sig.set(idle)
	defer h.sig.set(prev)
	var tks []Ticket
	for range n {
		tk, err := h.q.Enqueue(context.Background(), it)
		if err != nil || tk.Waited() != 0 {
			h.t.Fatalf("admit at once: %v (waited %v)", err, tk.Waited())
		}
		tk.Routed()
		tks = append(tks, tk)
	}
	return tks
}

// TestQueueLightFlowFirstByDefault is the regression test for the light
// tenant of the "tenants" benchmark: with round-robin among queued
// requests only, a light flow that turns up behind a heavy flow's backlog
// waited for one of the heavy flow's requests first, although the heavy
// flow already held most of the pool. By default the flow with the fewest
// requests in flight goes first.
func TestQueueLightFlowFirstByDefault(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	h.admitNow(3, Item{FairnessID: "heavy"})
	h.admitNow(1, Item{FairnessID: "light"})
	h.enqueue(ctx, "heavy1", Item{FairnessID: "heavy"})
	h.enqueue(ctx, "heavy2", Item{FairnessID: "heavy"})
	h.enqueue(ctx, "light1", Item{FairnessID: "light"})
	h.enqueue(ctx, "light2", Item{FairnessID: "light"})
	// In flight: heavy 3, light 1. light1 (1 < 3), light2 (2 < 3), then
	// heavy1 (3 vs light's 3: tie, heavy is next in turn), heavy2.
	got := h.drainAll(4)
	want := []string{"light1", "light2", "heavy1", "heavy2"}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatch order %v, want %v", got, want)
	}
}

func TestQueueFairShareCountsReleases(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessFairShare})
	ctx := context.Background()
	heavy := h.admitNow(2, Item{FairnessID: "heavy"})
	h.admitNow(2, Item{FairnessID: "light"})
	for _, tk := range heavy {
		tk.Release()
	}
	h.enqueue(ctx, "light1", Item{FairnessID: "light"})
	h.enqueue(ctx, "heavy1", Item{FairnessID: "heavy"})
	// The heavy flow's requests ended: it holds 0 against light's 2.
	if got := h.drainAll(2); !slices.Equal(got, []string{"heavy1", "light1"}) {
		t.Fatalf("dispatch order %v, want heavy1 first", got)
	}
	if h.q.held != 4 {
		t.Fatalf("held %d, want 4 (2 light admitted at once, 2 dispatched)", h.q.held)
	}
}

func TestQueueReservedShare(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessReservedShare})
	ctx := context.Background()
	// A pool of 4 requests that is not saturated.
	roomy := Saturation{Level: 0.5, Demand: 0.5, QueueUnit: 0.25, Endpoints: 1, Capacity: 4}
	h.sig.set(roomy)
	var heavy []Ticket
	for range 3 {
		// Alone, a flow may take the whole pool.
		tk, err := h.q.Enqueue(ctx, Item{FairnessID: "heavy"})
		if err != nil || tk.Waited() != 0 {
			t.Fatalf("heavy alone: %v", err)
		}
		tk.Routed()
		heavy = append(heavy, tk)
	}
	light, err := h.q.Enqueue(ctx, Item{FairnessID: "light"})
	if err != nil || light.Waited() != 0 {
		t.Fatalf("light below its share: %v", err)
	}
	light.Routed()
	// Two active flows, share 2: heavy (3 in flight) waits although the
	// pool has room; light (1) does not.
	h.enqueue(ctx, "heavy4", Item{FairnessID: "heavy"})
	tk, err := h.q.Enqueue(ctx, Item{FairnessID: "light"})
	if err != nil || tk.Waited() != 0 {
		t.Fatalf("light within its share: %v", err)
	}
	tk.Routed()
	h.clock.Advance(defaultRecheck)
	select {
	case r := <-h.res:
		t.Fatalf("%s dispatched above its share while light is active", r.name)
	default:
	}
	// Light's last request ends: it keeps its share for the linger, then
	// heavy may use the pool again.
	tk.Release()
	light.Release()
	h.clock.Advance(DefaultReservationLinger - time.Millisecond)
	if n, _ := h.q.Queued(); n != 1 {
		t.Fatal("heavy4 dispatched above its share while light lingers")
	}
	h.clock.Advance(defaultRecheck)
	r := h.next()
	if r.name != "heavy4" || r.err != nil {
		t.Fatalf("%s: %v, want heavy4 dispatched", r.name, r.err)
	}
	for _, tk := range heavy {
		tk.Release()
	}
}

func TestQueueReservedShareNeedsCapacity(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessReservedShare})
	h.sig.set(idle) // no capacity reported: fair-share, nothing reserved
	for range 5 {
		if tk, err := h.q.Enqueue(context.Background(), Item{FairnessID: "heavy"}); err != nil || tk.Waited() != 0 {
			t.Fatalf("heavy: %v", err)
		}
	}
	h.admitNow(1, Item{FairnessID: "light"})
	if tk, err := h.q.Enqueue(context.Background(), Item{FairnessID: "heavy"}); err != nil || tk.Waited() != 0 {
		t.Fatalf("heavy held back without a known capacity: %v", err)
	}
}

// TestQueueLightFlowSkipsQueueOfCappedFlow checks that a request that
// would be dispatched first anyway is admitted at once, without waiting
// for the dispatch of another flow's request to be routed.
func TestQueueLightFlowSkipsQueueOfCappedFlow(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessReservedShare})
	ctx := context.Background()
	roomy := Saturation{Level: 0.5, Demand: 0.5, QueueUnit: 0.25, Endpoints: 1, Capacity: 4}
	h.sig.set(roomy)
	for range 2 {
		tk, err := h.q.Enqueue(ctx, Item{FairnessID: "heavy"})
		if err != nil {
			t.Fatal(err)
		}
		tk.Routed()
	}
	h.admitNow(1, Item{FairnessID: "light"})
	h.sig.set(roomy)
	h.enqueue(ctx, "heavy3", Item{FairnessID: "heavy"}) // at its share of 2
	// An unrouted dispatch blocks dispatch from the queue, not this.
	h.q.mu.Lock()
	h.q.pending++
	h.q.mu.Unlock()
	tk, err := h.q.Enqueue(ctx, Item{FairnessID: "light"})
	if err != nil || tk.Waited() != 0 || tk.w != nil {
		t.Fatalf("light below its share behind a capped heavy backlog: %v, waiter %v", err, tk.w != nil)
	}
	// Its own flow queued, or a flow holding fewer in flight queued: wait.
	h.q.mu.Lock()
	h.q.pending--
	h.q.mu.Unlock()
	h.sig.set(full)
	h.enqueue(ctx, "light3", Item{FairnessID: "light"})
	h.sig.set(roomy)
	if tk, err := h.q.Enqueue(ctx, Item{FairnessID: "other"}); err != nil || tk.w != nil || tk.Waited() != 0 {
		// "other" holds 0 in flight, fewer than light's 2: it goes first.
		t.Fatalf("other: %v", err)
	}
	h.enqueue(ctx, "light4", Item{FairnessID: "light"})
	if n, _ := h.q.Queued(); n != 3 {
		t.Fatalf("%d queued, want heavy3, light3, light4", n)
	}
	h.sig.set(idle)
	h.clock.Advance(defaultRecheck)
}

// TestQueueReservedShareForgetsLingeringIDs checks that the linger's memory
// follows the requests of the last linger, not every fairness ID seen, and
// is bounded within it.
func TestQueueReservedShareForgetsLingeringIDs(t *testing.T) {
	h := newHarness(t, Options{Fairness: FairnessReservedShare})
	roomy := Saturation{Level: 0.5, Demand: 0.5, QueueUnit: 0.25, Endpoints: 1, Capacity: 4}
	h.sig.set(roomy)
	for i := range maxLingering + 100 {
		tk, err := h.q.Enqueue(context.Background(), Item{FairnessID: "tenant-" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		tk.Release()
	}
	b := h.q.bandLocked(0)
	if n := b.activeFlows(h.clock.Now(), h.q.linger); n != maxLingering {
		t.Fatalf("%d active flows right after their requests ended, want %d lingering (the bound)", n, maxLingering)
	}
	h.clock.Advance(DefaultReservationLinger)
	tk, err := h.q.Enqueue(context.Background(), Item{FairnessID: "next"})
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Release()
	h.q.mu.Lock()
	defer h.q.mu.Unlock()
	if len(b.ended) != 0 {
		t.Fatalf("%d fairness IDs remembered after the linger, want 0", len(b.ended))
	}
}
