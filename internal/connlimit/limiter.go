package connlimit

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// Options are a Limiter's limits.
type Options struct {
	// PerAddress caps open connections per client IP; <= 0 means no cap.
	PerAddress int
	// Max caps open connections in total; <= 0 means no cap.
	Max int
}

// Limiter counts open connections per client address and in total. It is
// safe for concurrent use.
type Limiter struct {
	perAddr, max int

	mu    sync.Mutex
	total int                // connections within the limits
	over  int                // connections accepted past the limits
	addrs map[string]*addr   // by client IP
	idle  map[*conn]struct{} // idle keep-alive connections, all addresses
}

// addr is one client address's connections.
type addr struct {
	n    int                // within the limits
	over int                // past the limits
	idle map[*conn]struct{} // idle keep-alive connections
}

// New returns a Limiter with the limits of o.
func New(o Options) *Limiter {
	return &Limiter{
		perAddr: o.PerAddress,
		max:     o.Max,
		addrs:   make(map[string]*addr),
		idle:    make(map[*conn]struct{}),
	}
}

// Listener wraps ln so every accepted connection is counted.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, l: l}
}

// ConnState is the http.Server.ConnState hook: it tracks which connections
// are idle and releases closed ones.
func (l *Limiter) ConnState(c net.Conn, s http.ConnState) {
	lc := unwrap(c)
	if lc == nil {
		return
	}
	switch s {
	case http.StateIdle:
		l.setIdle(lc, true)
	case http.StateActive:
		l.setIdle(lc, false)
	case http.StateClosed, http.StateHijacked:
		l.release(lc)
	}
}

type ctxKey struct{}

// ConnContext is the http.Server.ConnContext hook: it makes the connection
// visible to [OverLimit].
func (l *Limiter) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc := unwrap(c); lc != nil {
		return context.WithValue(ctx, ctxKey{}, lc)
	}
	return ctx
}

// OverLimit reports whether r arrived on a connection accepted past the
// limits of the Limiter whose ConnContext hook the server uses.
func OverLimit(r *http.Request) bool {
	c, _ := r.Context().Value(ctxKey{}).(*conn)
	return c != nil && c.over
}

// Open returns the connections within the limits and those past them.
func (l *Limiter) Open() (within, over int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.over
}

// admit counts a newly accepted connection. It returns the connection to
// serve, or nil when c was closed because even the over-limit allowance is
// used up.
func (l *Limiter) admit(c net.Conn) net.Conn {
	key := addrKey(c.RemoteAddr())
	lc := &conn{Conn: c, l: l, key: key}
	var victim *conn
	l.mu.Lock()
	a := l.addrs[key]
	if a == nil {
		a = &addr{idle: make(map[*conn]struct{})}
		l.addrs[key] = a
	}
	addrFull := l.perAddr > 0 && a.n >= l.perAddr
	allFull := l.max > 0 && l.total >= l.max
	if addrFull || allFull {
		victim = anyOf(a.idle)
		if victim == nil && !addrFull {
			victim = anyOf(l.idle)
		}
		switch {
		case victim != nil:
			l.releaseLocked(victim)
		case (l.perAddr > 0 && a.over >= l.perAddr) || (l.max > 0 && l.over >= l.max):
			l.dropIfEmptyLocked(a, key)
			l.mu.Unlock()
			c.Close()
			return nil
		default:
			lc.over = true
		}
	}
	if lc.over {
		a.over++
		l.over++
	} else {
		a.n++
		l.total++
	}
	l.addrs[key] = a // evicting the address's last connection dropped it
	l.mu.Unlock()
	if victim != nil {
		victim.Conn.Close() // its server goroutine sees the error and ends
	}
	return lc
}

// setIdle records whether c is an idle keep-alive connection.
func (l *Limiter) setIdle(c *conn, idle bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released || c.over {
		return
	}
	a := l.addrs[c.key]
	if idle {
		a.idle[c] = struct{}{}
		l.idle[c] = struct{}{}
	} else {
		delete(a.idle, c)
		delete(l.idle, c)
	}
}

// release uncounts c; later calls do nothing.
func (l *Limiter) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked(c)
}

func (l *Limiter) releaseLocked(c *conn) {
	if c.released {
		return
	}
	c.released = true
	a := l.addrs[c.key]
	if c.over {
		a.over--
		l.over--
	} else {
		a.n--
		l.total--
		delete(a.idle, c)
		delete(l.idle, c)
	}
	l.dropIfEmptyLocked(a, c.key)
}

func (l *Limiter) dropIfEmptyLocked(a *addr, key string) {
	if a.n == 0 && a.over == 0 {
		delete(l.addrs, key)
	}
}

// anyOf returns some member of set, or nil.
func anyOf(set map[*conn]struct{}) *conn {
	for c := range set {
		return c
	}
	return nil
}

// addrKey is the client IP of a remote address (the whole address when it
// has no port).
func addrKey(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	s := a.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}
