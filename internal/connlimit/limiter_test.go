package connlimit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// server runs an http.Server on loopback behind a Limiter. /block waits
// until release is closed; every path answers 503 on over-limit
// connections.
func server(t *testing.T, o Options) (addr string, lim *Limiter, release chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim = New(o)
	release = make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if OverLimit(r) {
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			if r.URL.Path == "/block" {
				<-release
			}
			io.WriteString(w, "ok")
		}),
		ConnState:   lim.ConnState,
		ConnContext: lim.ConnContext,
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lim.Listener(ln)) }()
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		srv.Close()
		<-done
	})
	return ln.Addr().String(), lim, release
}

// rawConn is a client connection sending HTTP/1.1 requests by hand.
type rawConn struct {
	net.Conn
	rd *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, rd: bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
}

func (c *rawConn) status(t *testing.T) (int, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.rd, nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitOpen polls until the limiter counts within/over connections.
// waitIdle waits until lim counts n idle keep-alive connections: the
// server marks a connection idle after writing its answer, which can be
// after the client has read it.
func waitIdle(t *testing.T, lim *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lim.mu.Lock()
		got := len(lim.idle)
		lim.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections, want %d", got, n)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func waitOpen(t *testing.T, lim *Limiter, within, over int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, o := lim.Open()
		if w == within && o == over {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("open = (%d, %d), want (%d, %d)", w, o, within, over)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestBusyConnectionsPastTheLimitGet503(t *testing.T) {
	t.Parallel()
	addr, lim, release := server(t, Options{PerAddress: 2, Max: 100})
	busy := []*rawConn{dial(t, addr), dial(t, addr)}
	for _, c := range busy {
		c.send(t, "/block")
	}
	waitOpen(t, lim, 2, 0)
	extra := dial(t, addr)
	extra.send(t, "/")
	if code, err := extra.status(t); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("third connection: status %d, %v; want 503", code, err)
	}
	if _, err := extra.rd.ReadByte(); err != io.EOF {
		t.Fatalf("over-limit connection not closed after its answer: %v", err)
	}
	waitOpen(t, lim, 2, 0)
	close(release)
	for _, c := range busy {
		if code, err := c.status(t); err != nil || code != http.StatusOK {
			t.Fatalf("busy connection: status %d, %v", code, err)
		}
	}
}

func TestIdleConnectionIsEvictedFirst(t *testing.T) {
	t.Parallel()
	addr, lim, _ := server(t, Options{PerAddress: 2, Max: 100})
	idle := dial(t, addr)
	idle.send(t, "/")
	if code, err := idle.status(t); err != nil || code != http.StatusOK {
		t.Fatalf("status %d, %v", code, err)
	}
	waitIdle(t, lim, 1)
	busy := dial(t, addr)
	busy.send(t, "/block")
	waitOpen(t, lim, 2, 0)
	fresh := dial(t, addr)
	fresh.send(t, "/")
	if code, err := fresh.status(t); err != nil || code != http.StatusOK {
		t.Fatalf("new connection with an idle one to evict: status %d, %v; want 200", code, err)
	}
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.rd.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("idle connection not closed: %v", err)
	}
	waitOpen(t, lim, 2, 0)
}

func TestGlobalLimitEvictsAnotherAddressIdle(t *testing.T) {
	t.Parallel()
	// Only one loopback address is at hand, so exercise the global limit
	// with a per-address limit above it.
	addr, lim, _ := server(t, Options{PerAddress: 10, Max: 1})
	idle := dial(t, addr)
	idle.send(t, "/")
	if code, err := idle.status(t); err != nil || code != http.StatusOK {
		t.Fatalf("status %d, %v", code, err)
	}
	waitIdle(t, lim, 1)
	fresh := dial(t, addr)
	fresh.send(t, "/")
	if code, err := fresh.status(t); err != nil || code != http.StatusOK {
		t.Fatalf("status %d, %v; want 200 after evicting the idle connection", code, err)
	}
	waitOpen(t, lim, 1, 0)
}

func TestPastTwiceTheLimitConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	addr, lim, _ := server(t, Options{PerAddress: 1, Max: 100})
	busy := dial(t, addr)
	busy.send(t, "/block")
	waitOpen(t, lim, 1, 0)
	over := dial(t, addr) // accepted past the limit, not yet answered
	waitOpen(t, lim, 1, 1)
	closed := dial(t, addr)
	_ = closed.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := closed.rd.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("connection past twice the limit not closed: %v", err)
	}
	over.send(t, "/")
	if code, err := over.status(t); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("over-limit connection: status %d, %v; want 503", code, err)
	}
	waitOpen(t, lim, 1, 0)
}
