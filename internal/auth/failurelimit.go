package auth

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Defaults of [FailureLimitOptions].
const (
	// DefaultFailureBurst is how many failed attempts an address may make
	// in a row before it is throttled.
	DefaultFailureBurst = 10
	// DefaultFailuresPerSecond is how fast the failure budget refills.
	DefaultFailuresPerSecond = 1.0
	// DefaultFailureAddresses bounds the addresses tracked at once.
	DefaultFailureAddresses = 10000
)

// FailureLimitOptions configure a [FailureLimiter]. Zero values mean the
// defaults.
type FailureLimitOptions struct {
	// Burst is how many failures an address may make before it is
	// throttled; default [DefaultFailureBurst].
	Burst int
	// PerSecond is how many further failures per second an address earns
	// back, up to Burst; default [DefaultFailuresPerSecond].
	PerSecond float64
	// MaxAddresses bounds the addresses tracked; when full, the address
	// touched least recently is forgotten. Default
	// [DefaultFailureAddresses].
	MaxAddresses int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FailureLimiter is a token bucket of failed authentication attempts per
// client address: each address starts with Burst attempts and earns back
// PerSecond of them per second. An attempt reserves one before it runs
// ([FailureLimiter.Reserve]); an attempt that did not fail gives it back
// ([FailureLimiter.Release]), so only failures use up the budget and
// concurrent attempts cannot overrun it. Addresses whose budget is full are
// not tracked; at most MaxAddresses are. Safe for concurrent use.
type FailureLimiter struct {
	burst     float64
	perSecond float64
	max       int
	now       func() time.Time

	mu    sync.Mutex
	order *list.List // of *failureBucket, most recently touched first
	byKey map[netip.Addr]*list.Element
}

// failureBucket is the budget of one address.
type failureBucket struct {
	key    netip.Addr
	tokens float64   // failures left at updated
	update time.Time // when tokens was computed
}

// NewFailureLimiter returns a limiter; see [FailureLimitOptions] for the
// defaults. Negative values are treated as zero (the default).
func NewFailureLimiter(o FailureLimitOptions) *FailureLimiter {
	l := &FailureLimiter{
		burst:     float64(o.Burst),
		perSecond: o.PerSecond,
		max:       o.MaxAddresses,
		now:       o.Now,
		order:     list.New(),
		byKey:     make(map[netip.Addr]*list.Element),
	}
	if o.Burst <= 0 {
		l.burst = DefaultFailureBurst
	}
	if !(o.PerSecond > 0) || math.IsInf(o.PerSecond, 0) {
		l.perSecond = DefaultFailuresPerSecond
	}
	if l.max <= 0 {
		l.max = DefaultFailureAddresses
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Reserve takes one attempt from addr's budget. When none is left it
// returns false and how long until one is (at least a second); nothing is
// taken then. A nil limiter always allows.
func (l *FailureLimiter) Reserve(addr netip.Addr) (retryAfter time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(addr, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
	wait = (wait + time.Second - 1).Truncate(time.Second) // whole seconds, rounded up
	return max(wait, time.Second), false
}

// Release gives back an attempt [FailureLimiter.Reserve] took for addr,
// because it did not fail. It never raises the budget above Burst; an
// address whose budget is full again is forgotten. A nil limiter does
// nothing.
func (l *FailureLimiter) Release(addr netip.Addr) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.byKey[addr]
	if !ok {
		return // forgotten meanwhile: its budget is full
	}
	b := el.Value.(*failureBucket)
	l.refill(b, l.now())
	b.tokens++
	if b.tokens >= l.burst {
		l.order.Remove(el)
		delete(l.byKey, addr)
	}
}

// Tracked returns the number of addresses whose budget is not full (as of
// their last attempt).
func (l *FailureLimiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// bucket returns addr's bucket refilled to now, creating it (full) when
// addr is not tracked. l.mu must be held.
func (l *FailureLimiter) bucket(addr netip.Addr, now time.Time) *failureBucket {
	if el, ok := l.byKey[addr]; ok {
		l.order.MoveToFront(el)
		b := el.Value.(*failureBucket)
		l.refill(b, now)
		return b
	}
	l.makeRoom(now)
	b := &failureBucket{key: addr, tokens: l.burst, update: now}
	l.byKey[addr] = l.order.PushFront(b)
	return b
}

// makeRoom drops the least recently touched buckets that are full again,
// then, if the limiter is still at its bound, the least recently touched
// one. l.mu must be held.
func (l *FailureLimiter) makeRoom(now time.Time) {
	for el := l.order.Back(); el != nil; el = l.order.Back() {
		b := el.Value.(*failureBucket)
		l.refill(b, now)
		if b.tokens < l.burst && l.order.Len() < l.max {
			return
		}
		l.order.Remove(el)
		delete(l.byKey, b.key)
	}
}

// refill adds the attempts b earned since its last update.
func (l *FailureLimiter) refill(b *failureBucket, now time.Time) {
	if elapsed := now.Sub(b.update); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.perSecond)
		b.update = now
	}
}
