package proxy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// An attempt that has no response headers yet is abandoned, and retried
// elsewhere, when its endpoint turns sick: its metrics go stale (it stopped
// answering scrapes: stopped, hung or cut off) or outlier detection ejects
// it. Nothing has reached the client, so the retry is invisible to it. The
// attempt is only abandoned when the retry budget has room and another
// endpoint of the pool is fresh and not ejected, so a fleet whose scrapes
// all fail (or a pool of one) keeps waiting as before.

// watch states.
const (
	watchWaiting int32 = iota
	watchDone
	watchAbandoned
)

// attemptWatch checks one attempt's endpoint every interval until the
// attempt has its answer. Its timer callbacks run one at a time (each
// re-arms the timer last), and stop ends them.
type attemptWatch struct {
	ep        *pool.Endpoint
	store     *pool.Store
	now       func() time.Time
	staleness time.Duration
	interval  time.Duration
	cancel    context.CancelFunc

	state atomic.Int32

	mu    sync.Mutex // guards timer
	timer *time.Timer

	// Read and written by the callbacks only, which never overlap.
	wasFresh bool
	until0   time.Time // the ejection in force when the attempt started
}

// watchInterval is how often an attempt's endpoint is checked: a quarter of
// the staleness, within [50ms, 500ms].
func watchInterval(staleness time.Duration) time.Duration {
	return min(max(staleness/4, 50*time.Millisecond), 500*time.Millisecond)
}

// watch starts watching the attempt at ep of store, which cancel aborts;
// nil when there is nothing to watch (no staleness configured or no
// store).
func (c *call) watch(ep *pool.Endpoint, store *pool.Store, cancel context.CancelFunc) *attemptWatch {
	if c.h.staleAge <= 0 || store == nil {
		return nil
	}
	w := &attemptWatch{
		ep: ep, store: store, now: c.h.now, staleness: c.h.staleAge,
		interval: watchInterval(c.h.staleAge), cancel: cancel,
	}
	w.wasFresh = ep.Fresh(w.now(), w.staleness)
	w.until0, _ = ep.EjectedUntil()
	w.mu.Lock()
	w.timer = time.AfterFunc(w.interval, w.check)
	w.mu.Unlock()
	return w
}

// check abandons the attempt when its endpoint turned sick and another
// could take it; otherwise it looks again after the interval.
func (w *attemptWatch) check() {
	if w.state.Load() != watchWaiting {
		return
	}
	if w.sick() && w.alternative() && w.state.CompareAndSwap(watchWaiting, watchAbandoned) {
		w.cancel()
		return
	}
	w.mu.Lock()
	w.timer.Reset(w.interval)
	w.mu.Unlock()
}

// sick reports whether the endpoint was ejected since the attempt started,
// or its metrics, fresh at some point since then, went stale.
func (w *attemptWatch) sick() bool {
	if until, ejected := w.ep.EjectedUntil(); ejected && !until.Equal(w.until0) {
		return true
	}
	fresh := w.ep.Fresh(w.now(), w.staleness)
	if fresh {
		w.wasFresh = true
	}
	return w.wasFresh && !fresh
}

// alternative reports whether another endpoint of the pool is fresh and
// not ejected.
func (w *attemptWatch) alternative() bool {
	now := w.now()
	for _, e := range w.store.Load().Endpoints() {
		if e != w.ep && e.Fresh(now, w.staleness) && !e.Ejected(now) {
			return true
		}
	}
	return false
}

// stop ends the watch; it reports whether the attempt was abandoned (its
// context cancelled) first. Safe on a nil watch.
func (w *attemptWatch) stop() (abandoned bool) {
	if w == nil {
		return false
	}
	if !w.state.CompareAndSwap(watchWaiting, watchDone) {
		return true
	}
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
	return false
}
