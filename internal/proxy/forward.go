package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
)

// call is the transport side of one inference request: the client's
// request, its exchange, the body budget it holds, and, once forwarding
// starts, the upstream context, the timeout and stall flags and the
// stall-watching writer.
type call struct {
	h        *Handler
	in       *http.Request
	x        *exchange.Exchange
	held     int64            // body-budget bytes held (returned by finish)
	tk       admission.Ticket // flow-control ticket; routed once the first attempt is counted
	ctx      context.Context
	cancel   context.CancelFunc
	timedOut atomic.Bool // a first-byte or idle timeout fired
	// cancels cancel the contexts of the attempts that got an answer (the
	// one passed on among them); forward calls them at the end.
	cancels []context.CancelFunc
	// won and wonReq are set by attemptOrHedge when the hedge's answer is
	// the one to use (roundTrip takes them over).
	won     *pool.Endpoint
	wonReq  *http.Request
	stalled atomic.Bool // the client took no bytes for the stall timeout
	sw      stallWriter
	trace   *reqTrace // nil when tracing is off
}

// timeout marks a first-byte or idle timeout and cancels the upstream request.
func (c *call) timeout() {
	c.timedOut.Store(true)
	c.cancel()
}

// forward sends body to the decision's endpoint, retrying elsewhere before
// the first response byte, and streams the answer to w. A client that goes
// away cancels the upstream request.
func (c *call) forward(w http.ResponseWriter, dec *router.Decision, body openai.Edited) {
	ctx, cancel := context.WithCancel(c.in.Context())
	defer cancel()
	c.ctx, c.cancel = ctx, cancel
	c.sw.init(w, c.h.stall, c)
	defer func() {
		for _, f := range c.cancels {
			f()
		}
	}()
	resp, err := c.roundTrip(c.outbound(dec.Endpoint, body), dec)
	if err != nil {
		if e := c.x.UpstreamFailed(err, c.timedOut.Load(), ctx.Err() != nil); e != nil {
			writeError(&c.sw, e)
		}
		return
	}
	c.respond(resp)
}

// hopHeaders are removed in both directions (RFC 9110 7.6.1), with the
// headers the Connection header names.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopByHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		h.Del(f)
	}
}

// outbound builds the request to ep: the client's method, path, query and
// end-to-end headers, X-Forwarded-For/-Host/-Proto of this hop only, the
// request ID, and body as the exact body.
func (c *call) outbound(ep *pool.Endpoint, body openai.Edited) *http.Request {
	in := c.in
	out := in.WithContext(c.ctx)
	u := *in.URL
	u.Scheme, u.Host = c.h.scheme, ep.Address()
	u.RawQuery = cleanQuery(u.RawQuery)
	out.URL, out.Host = &u, ep.Address()
	out.RequestURI = ""
	out.Close = false
	out.Proto, out.ProtoMajor, out.ProtoMinor = "HTTP/1.1", 1, 1
	hdr := in.Header.Clone()
	if hdr == nil {
		hdr = make(http.Header)
	}
	removeHopByHopHeaders(hdr)
	if headerHasToken(in.Header["Te"], "trailers") {
		hdr.Set("Te", "trailers")
	}
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		hdr.Del(k)
	}
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		hdr.Set("X-Forwarded-For", ip)
	}
	hdr.Set("X-Forwarded-Host", in.Host)
	if in.TLS == nil {
		hdr.Set("X-Forwarded-Proto", "http")
	} else {
		hdr.Set("X-Forwarded-Proto", "https")
	}
	hdr.Del("Content-Length")
	hdr.Set(exchange.HeaderRequestID, c.x.ID())
	if c.h.stripAut {
		hdr.Del("Authorization")
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", "") // no Go default User-Agent
	}
	out.Header = hdr
	setBody(out, body)
	return out
}

// setBody makes body the request's body, replayable for the transport
// (retries and hedges): its parts are read in turn, never copied into one
// rewritten body.
func setBody(r *http.Request, body openai.Edited) {
	parts := body.Parts()
	read := func() io.ReadCloser {
		b := net.Buffers(slices.Clone(parts)) // Read consumes its own copy
		return io.NopCloser(&b)
	}
	r.Body = read()
	r.GetBody = func() (io.ReadCloser, error) { return read(), nil }
	r.ContentLength = int64(body.Len())
}

// retarget returns a copy of req aimed at ep, with a fresh body; the header
// map is shared (nothing writes it once built).
func retarget(req *http.Request, ep *pool.Endpoint) *http.Request {
	out := *req
	u := *req.URL
	u.Host = ep.Address()
	out.URL, out.Host = &u, ep.Address()
	out.Body, _ = req.GetBody()
	return &out
}

// headerHasToken reports whether a comma-separated header value lists token.
func headerHasToken(vs []string, token string) bool {
	for _, v := range vs {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// cleanQuery re-encodes a query holding semicolons or bad escapes, as
// net/http/httputil does, so the upstream cannot read it differently.
func cleanQuery(s string) string {
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			v, _ := url.ParseQuery(s)
			return v.Encode()
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				v, _ := url.ParseQuery(s)
				return v.Encode()
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// roundTrip sends req and, while nothing has reached the client, re-picks
// and retries on connection failures and on 502/503/504 answers.
func (c *call) roundTrip(req *http.Request, dec *router.Decision) (*http.Response, error) {
	h, x := c.h, c.x
	ep := dec.Endpoint
	for {
		x.Attempt(ep)
		c.tk.Routed() // the endpoint counts this request now; let the next one through
		if c.trace != nil {
			c.trace.startAttempt(c.ctx, req, ep, x.Attempts())
		}
		var store *pool.Store
		if x.Attempts() <= h.retries {
			store = dec.Pool // room to retry: watch the endpoint
		}
		resp, err := c.attemptOrHedge(req, ep, store)
		if c.won != nil {
			// The hedge's answer is the one to go on with.
			ep, req, c.won, c.wonReq = c.won, c.wonReq, nil, nil
		}
		x.AttemptDone(ep, statusOf(resp), err)
		if err == nil && !retryableStatus(resp.StatusCode) {
			x.Served(ep)
			if c.trace != nil {
				c.trace.served(resp.StatusCode)
			}
			return resp, nil
		}
		if err != nil && !c.retryableErr(err) {
			if c.trace != nil {
				c.trace.endAttempt(nil, err)
			}
			return nil, err
		}
		if x.Attempts() > h.retries {
			return c.give(resp, ep, err)
		}
		next, rerr := x.Repick(h.router)
		if rerr != nil {
			// Nobody left to try: hand back what we have.
			return c.give(resp, ep, err)
		}
		if c.trace != nil {
			c.trace.endAttempt(resp, err)
		}
		if resp != nil {
			// Abandon the failed body unread: a replica that answered
			// 502/503/504 may never finish it, and the retry must not wait.
			resp.Body.Close()
		}
		h.log.Debug("retrying on another endpoint",
			"request_id", x.ID(), "failed_endpoint", ep.Name(), "next_endpoint", next.Name(),
			"status", statusOf(resp), "err", err)
		ep = next
		req = retarget(req, ep)
	}
}

// give hands back the last attempt's answer from ep.
func (c *call) give(resp *http.Response, ep *pool.Endpoint, err error) (*http.Response, error) {
	if resp != nil {
		c.x.Served(ep)
		if c.trace != nil {
			c.trace.served(resp.StatusCode)
		}
	} else if c.trace != nil {
		c.trace.endAttempt(nil, err)
	}
	return resp, err
}

// attempt sends one request, failing it when no response headers arrive
// within the first-byte timeout. With a store it also watches ep (see
// abandon.go) and abandons the attempt, with [exchange.ErrAbandoned], when
// ep turns stale or is ejected before answering.
//
// The attempt's context ends with parent or with the returned cancel,
// which is non-nil with a response: the response body is read under it.
func (c *call) attempt(parent context.Context, req *http.Request, ep *pool.Endpoint, store *pool.Store) (*http.Response, context.CancelFunc, error) {
	actx, acancel := context.WithCancel(parent)
	w := c.watch(ep, store, acancel)
	timer := time.AfterFunc(c.h.firstB, c.timeout)
	resp, err := c.h.upstream.RoundTrip(req.WithContext(actx))
	stopped := timer.Stop()
	abandoned := w.stop()
	if !stopped && c.timedOut.Load() {
		err = exchange.ErrFirstByteTimeout
	} else if abandoned {
		err = exchange.ErrAbandoned
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		acancel()
		return nil, nil, fmt.Errorf("endpoint %s: %w", ep.Name(), err)
	}
	return resp, acancel, nil
}

// retryableErr reports whether a transport error may be retried elsewhere:
// anything but the client going away or a timeout.
func (c *call) retryableErr(err error) bool {
	if c.ctx.Err() != nil || c.timedOut.Load() {
		return false
	}
	return !errors.Is(err, context.Canceled)
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// isStream reports whether a response is an SSE stream.
func isStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= len("text/event-stream") && ct[:len("text/event-stream")] == "text/event-stream"
}

// respond passes resp to the client: status and end-to-end headers, then the
// body, each write flushed, observed by the exchange. When the copy breaks
// off mid-response the handler is aborted with [http.ErrAbortHandler], so
// the client sees a truncated response rather than a clean end.
func (c *call) respond(resp *http.Response) {
	removeHopByHopHeaders(resp.Header)
	if c.x.ResponseStarted(resp.StatusCode, isStream(resp.Header)) {
		// Removing a chunk changes the length; let the server re-frame.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	idle := time.AfterFunc(c.h.idle, c.timeout)
	defer idle.Stop()
	w := &c.sw
	dst := w.Header()
	for k, vv := range resp.Header {
		for _, v := range vv {
			dst.Add(k, v)
		}
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	_ = w.FlushError() // headers go out before the first body byte
	if err := c.copyBody(resp.Body, idle); err != nil {
		resp.Body.Close()
		if c.in.Context().Value(http.ServerContextKey) == nil {
			// Not under an http.Server (a test calling ServeHTTP): nobody
			// would recover the panic.
			c.h.log.Debug("response copy failed", "request_id", c.x.ID(), "err", err)
			return
		}
		panic(http.ErrAbortHandler)
	}
	resp.Body.Close() // populates resp.Trailer
	if len(resp.Trailer) > 0 {
		_ = w.FlushError()
	}
	if len(resp.Trailer) == announced {
		for k, vv := range resp.Trailer {
			for _, v := range vv {
				dst.Add(k, v)
			}
		}
		return
	}
	for k, vv := range resp.Trailer {
		for _, v := range vv {
			dst.Add(http.TrailerPrefix+k, v)
		}
	}
}

// copyBufPool pools the buffers responses are copied with: the read
// buffer and the observed (processed) stream bytes.
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyBody streams body to the client through the exchange, resetting the
// idle timer after every read. It returns nil when the body ended cleanly.
func (c *call) copyBody(body io.Reader, idle *time.Timer) error {
	inp, outp := copyBufPool.Get().(*[]byte), copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(inp)
	defer copyBufPool.Put(outp)
	in := *inp
	for {
		n, rerr := body.Read(in)
		idle.Reset(c.h.idle)
		if n > 0 {
			out := c.x.Chunk((*outp)[:0], in[:n])
			if cap(out) > cap(*outp) {
				*outp = out[:cap(out)]
			}
			if c.trace != nil && len(out) > 0 {
				c.trace.firstByte()
			}
			if err := c.write(out); err != nil {
				c.x.BodyEnd(exchange.ErrClosedEarly)
				return err
			}
		}
		if rerr == nil {
			continue
		}
		if rerr != io.EOF && rerr != context.Canceled {
			c.h.log.Debug("upstream body read failed", "request_id", c.x.ID(), "err", rerr)
		}
		if rerr != io.EOF && !c.stalled.Load() && c.in.Context().Err() == nil {
			// The replica broke off (or went idle) with the client still
			// there: a stream ends with an error event, anything else is
			// aborted.
			out, ok := c.x.Cut((*outp)[:0], rerr, c.timedOut.Load())
			if !ok {
				return rerr
			}
			*outp = out[:cap(out)]
			return c.write(out)
		}
		tail := c.x.Flush((*outp)[:0])
		c.x.BodyEnd(rerr)
		if c.trace != nil {
			c.trace.endOfStream()
		}
		if len(tail) > 0 {
			// What was held back goes out and the response ends there.
			return c.write(tail)
		}
		if rerr == io.EOF {
			return nil
		}
		return rerr
	}
}

// write sends p to the client and flushes it (every write is flushed, so
// SSE events go out as they complete).
func (c *call) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	n, err := c.sw.Write(p)
	_ = c.sw.FlushError()
	if err != nil {
		return err
	}
	if n != len(p) {
		return io.ErrShortWrite
	}
	return nil
}
