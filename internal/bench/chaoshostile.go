package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// chaosHostile runs hostile clients next to the chaos load, each pattern
// from its own loopback address so per-address limits tell them apart
// from the well-behaved clients on 127.0.0.1:
//
//   - 127.0.0.2 holds 300 idle connections open (past the default 256 per
//     address);
//   - 127.0.0.3 sends request bodies one byte a second (the body read
//     timeout answers 408);
//   - 127.0.0.4 starts streams and never reads them (the client stall
//     timeout cancels them);
//   - 127.0.0.5 asks for made-up models with long names (404).
type chaosHostile struct {
	addr string // host:port of the gateway's proxy listener

	requests atomic.Int64 // hostile requests answered or cut off
}

// run runs every pattern until ctx ends.
func (h *chaosHostile) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { h.holdConns(ctx, "127.0.0.2", 300) })
	for range 4 {
		wg.Go(func() { h.loop(ctx, h.slowBody) })
		wg.Go(func() { h.loop(ctx, h.nonReader) })
	}
	wg.Go(func() { h.loop(ctx, h.madeUpModel) })
	wg.Wait()
}

// loop repeats one pattern until ctx ends.
func (h *chaosHostile) loop(ctx context.Context, once func(context.Context) error) {
	for ctx.Err() == nil {
		if err := once(ctx); err != nil && ctx.Err() == nil {
			// The gateway refusing or cutting a hostile client is expected;
			// pace the retries.
			wait(ctx, time.Now().Add(100*time.Millisecond))
		}
		h.requests.Add(1)
	}
}

// dial connects to the gateway from the loopback address from.
func (h *chaosHostile) dial(ctx context.Context, from string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", h.addr)
}

// holdConns keeps n idle connections open from from.
func (h *chaosHostile) holdConns(ctx context.Context, from string, n int) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < n && ctx.Err() == nil {
		c, err := h.dial(ctx, from)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	<-ctx.Done()
}

// slowBody sends a request whose 64-byte body arrives one byte a second.
func (h *chaosHostile) slowBody(ctx context.Context) error {
	c, err := h.dial(ctx, "127.0.0.3")
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"); err != nil {
		return err
	}
	for range 64 {
		if _, err := c.Write([]byte{' '}); err != nil {
			return err
		}
		if !wait(ctx, time.Now().Add(time.Second)) {
			return ctx.Err()
		}
	}
	_, err = io.Copy(io.Discard, c)
	return err
}

// nonReader starts a long stream and never reads it, until the gateway
// gives up on it and closes the connection.
func (h *chaosHostile) nonReader(ctx context.Context) error {
	c, err := h.dial(ctx, "127.0.0.4")
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	body := fmt.Sprintf(`{"model":%q,"stream":true,"max_tokens":2000,"messages":[{"role":"user","content":"%s"}]}`, BaseModel, strings.Repeat("a ", 100))
	if _, err := fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		return err
	}
	// Never read; wait for the gateway to hang up (a read then fails).
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	one := make([]byte, 1)
	for {
		if !wait(ctx, time.Now().Add(5*time.Second)) {
			return ctx.Err()
		}
		// Peek one byte at a time, slower than the stream is written, so
		// the socket buffers fill.
		if _, err := c.Read(one); err != nil {
			return err
		}
	}
}

// madeUpModel asks for a model nobody serves, with a long name.
func (h *chaosHostile) madeUpModel(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return h.dial(ctx, "127.0.0.5")
	}}}
	defer client.CloseIdleConnections()
	name := strings.Repeat(fmt.Sprintf("made-up-%d-", time.Now().UnixNano()), 200)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+h.addr+"/v1/completions",
		strings.NewReader(fmt.Sprintf(`{"model":%q,"prompt":"x"}`, name)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !wait(ctx, time.Now().Add(50*time.Millisecond)) {
		return ctx.Err()
	}
	return nil
}
