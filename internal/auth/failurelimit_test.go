package auth

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestFailureLimiterBurstThenRate(t *testing.T) {
	clock := newFakeClock()
	l := NewFailureLimiter(FailureLimitOptions{Burst: 3, PerSecond: 0.5, Now: clock.Now})
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		if _, ok := l.Reserve(a); !ok {
			t.Fatalf("failure %d refused within the burst", i+1)
		}
	}
	retry, ok := l.Reserve(a)
	if ok {
		t.Fatal("fourth failure allowed past a burst of 3")
	}
	if retry != 2*time.Second {
		t.Errorf("retry after %v, want 2s (one failure per 2 s)", retry)
	}
	// A refused attempt takes nothing: the wait does not grow.
	if retry, _ := l.Reserve(a); retry != 2*time.Second {
		t.Errorf("second refusal: retry after %v, want 2s", retry)
	}
	clock.Advance(1500 * time.Millisecond)
	if retry, ok := l.Reserve(a); ok || retry != time.Second {
		t.Errorf("after 1.5 s: ok %v, retry %v; want refused with 1s (rounded up)", ok, retry)
	}
	clock.Advance(500 * time.Millisecond)
	if _, ok := l.Reserve(a); !ok {
		t.Error("refused after the refill time")
	}
	if _, ok := l.Reserve(a); ok {
		t.Error("a second failure allowed after one refill")
	}
	// Other addresses have their own budget.
	if _, ok := l.Reserve(netip.MustParseAddr("192.0.2.2")); !ok {
		t.Error("another address was throttled")
	}
}

func TestFailureLimiterRetryAfterAtLeastASecond(t *testing.T) {
	clock := newFakeClock()
	l := NewFailureLimiter(FailureLimitOptions{Burst: 1, PerSecond: 100, Now: clock.Now})
	a := netip.MustParseAddr("192.0.2.1")
	l.Reserve(a)
	if retry, ok := l.Reserve(a); ok || retry != time.Second {
		t.Errorf("ok %v, retry %v; want refused with 1s", ok, retry)
	}
}

func TestFailureLimiterReleaseGivesBackOnlyWhatWasTaken(t *testing.T) {
	clock := newFakeClock()
	l := NewFailureLimiter(FailureLimitOptions{Burst: 2, PerSecond: 1, Now: clock.Now})
	a := netip.MustParseAddr("192.0.2.1")
	// Successful attempts (reserve, release) never use the budget up.
	for range 100 {
		if _, ok := l.Reserve(a); !ok {
			t.Fatal("refused an address whose attempts all succeeded")
		}
		l.Release(a)
	}
	if n := l.Tracked(); n != 0 {
		t.Errorf("tracking %d addresses with full budgets, want 0", n)
	}
	// Releases cannot raise the budget above the burst: two failures,
	// then many releases, still leave only the burst.
	l.Reserve(a)
	l.Reserve(a)
	for range 10 {
		l.Release(a)
	}
	for i := range 2 {
		if _, ok := l.Reserve(a); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
	}
	if _, ok := l.Reserve(a); ok {
		t.Error("releases raised the budget above the burst")
	}
}

func TestFailureLimiterConcurrentAttemptsCannotOverrun(t *testing.T) {
	l := NewFailureLimiter(FailureLimitOptions{Burst: 10, PerSecond: 1e-9, Now: newFakeClock().Now})
	a := netip.MustParseAddr("192.0.2.1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 100 {
		wg.Go(func() {
			if _, ok := l.Reserve(a); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Errorf("%d concurrent attempts allowed, want the burst of 10", allowed)
	}
}

func TestFailureLimiterBoundedMemory(t *testing.T) {
	clock := newFakeClock()
	l := NewFailureLimiter(FailureLimitOptions{Burst: 1, PerSecond: 1, MaxAddresses: 4, Now: clock.Now})
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}) }
	for i := range 1000 {
		l.Reserve(addr(i))
		if n := l.Tracked(); n > 4 {
			t.Fatalf("tracking %d addresses, bound is 4", n)
		}
	}
	// The most recent addresses are still throttled; the oldest were
	// forgotten.
	if _, ok := l.Reserve(addr(999)); ok {
		t.Error("most recent address forgotten")
	}
	if _, ok := l.Reserve(addr(0)); !ok {
		t.Error("oldest address still tracked past the bound")
	}
	// Entries whose budget refilled are dropped before any throttled one.
	clock.Advance(time.Minute)
	l.Reserve(addr(5000))
	if n := l.Tracked(); n != 1 {
		t.Errorf("after every budget refilled: tracking %d addresses, want 1", n)
	}
}

func TestFailureLimiterDefaults(t *testing.T) {
	l := NewFailureLimiter(FailureLimitOptions{Burst: -1, PerSecond: -2, MaxAddresses: -3})
	if l.burst != DefaultFailureBurst || l.perSecond != DefaultFailuresPerSecond || l.max != DefaultFailureAddresses {
		t.Errorf("burst %v, perSecond %v, max %d; want the defaults", l.burst, l.perSecond, l.max)
	}
	var nilLimiter *FailureLimiter
	if _, ok := nilLimiter.Reserve(netip.Addr{}); !ok {
		t.Error("a nil limiter refused")
	}
	nilLimiter.Release(netip.Addr{})
}
