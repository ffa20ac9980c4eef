// Package testframes is a TCP relay for tests that counts the HTTP/2
// frames a client and a server exchange, so a test can tell what a gRPC
// peer puts on the wire (such as PING frames) without changing either.
package testframes

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"golang.org/x/net/http2"
)

// Counts are the frames a Tap saw going each way.
type Counts struct {
	// ClientFrames and ServerFrames count every frame from the client
	// (after its preface) and from the server.
	ClientFrames, ServerFrames int
	// ClientPings and ServerPings count the PING frames that are not
	// acknowledgements.
	ClientPings, ServerPings int
}

// Tap relays the connections made to it to a target address and counts
// the HTTP/2 frames on the way.
type Tap struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  []net.Conn
	counts Counts
}

// Start relays connections made to the returned tap's Addr to target
// (plaintext HTTP/2, client at the dialing side) until Close, which the
// end of the test also calls.
func Start(t testing.TB, target string) *Tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &Tap{ln: ln, target: target}
	tap.wg.Go(tap.accept)
	t.Cleanup(tap.Close)
	return tap
}

// Addr returns the tap's host:port.
func (tap *Tap) Addr() string { return tap.ln.Addr().String() }

// accept relays each accepted connection until the listener closes.
func (tap *Tap) accept() {
	for {
		c, err := tap.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", tap.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		tap.mu.Lock()
		tap.conns = append(tap.conns, c, up)
		tap.mu.Unlock()
		tap.wg.Go(func() { tap.relay(up, c, true) })
		tap.wg.Go(func() { tap.relay(c, up, false) })
	}
}

// relay copies src to dst and counts the frames on the way; fromClient
// says the bytes start with the client preface.
func (tap *Tap) relay(dst, src net.Conn, fromClient bool) {
	pr, pw := io.Pipe()
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		tap.count(pr, fromClient)
		_, _ = io.Copy(io.Discard, pr)
	}()
	_, err := io.Copy(dst, io.TeeReader(src, pw))
	_ = pw.CloseWithError(errors.Join(err, io.EOF))
	<-parsed
	_ = dst.Close()
	_ = src.Close()
}

// count reads frames from r until it fails.
func (tap *Tap) count(r io.Reader, fromClient bool) {
	if fromClient {
		if _, err := io.ReadFull(r, make([]byte, len(http2.ClientPreface))); err != nil {
			return
		}
	}
	fr := http2.NewFramer(nil, r)
	fr.SetMaxReadFrameSize(1 << 24)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		ping, isPing := f.(*http2.PingFrame)
		unasked := isPing && !ping.IsAck()
		tap.mu.Lock()
		if fromClient {
			tap.counts.ClientFrames++
			if unasked {
				tap.counts.ClientPings++
			}
		} else {
			tap.counts.ServerFrames++
			if unasked {
				tap.counts.ServerPings++
			}
		}
		tap.mu.Unlock()
	}
}

// Close stops the relay (closing the connections it carries) and waits
// for its goroutines. It may be called more than once.
func (tap *Tap) Close() {
	_ = tap.ln.Close()
	tap.mu.Lock()
	for _, c := range tap.conns {
		_ = c.Close()
	}
	tap.mu.Unlock()
	tap.wg.Wait()
}

// Counts returns the frames seen so far (all of them once Close returned).
func (tap *Tap) Counts() Counts {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.counts
}
