package extproc

import (
	"io"
	"net/http"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// phase is where a stream is in Envoy's message sequence.
type phase int

const (
	phaseRequestHeaders phase = iota // waiting for the request headers
	phaseRequestBody                 // buffering the request body
	phaseRouted                      // decision sent; waiting for the response
	phaseResponseBody                // passing the response body on
	phaseDone                        // response complete
)

// stream is the state of one ext_proc stream: one HTTP request.
type stream struct {
	s   *Server
	srv extprocv3.ExternalProcessor_ProcessServer

	phase    phase
	answered bool // a decision or an immediate response went to Envoy

	// Request side.
	x         *exchange.Exchange // nil unless this is an inference request
	id        string             // request ID (sanitized or generated)
	idChanged bool               // id differs from the x-request-id Envoy sent
	kind      openai.Kind
	ctl       exchange.Control
	remove    []string // control headers to remove (untrusted)
	subset    *subset  // Envoy's subset hint, nil when none
	body      []byte   // the buffered request body
	bodyBuf   *bodyBuf // body's buffer when it is the stream's (from s.bodies), else nil
	bodyHint  int64    // the request's valid content-length (sizes the body buffer), else 0
	held      int64    // body-budget bytes held
	inflight  bool     // holds a slot of the in-flight cap
	dec       *router.Decision
	ranking   scheduler.Ranking
	tk        admission.Ticket // the pool's flow-control ticket, released at the end
	endedAt   time.Time        // the request's last message arrived (set only when decisions are observed)

	// Response side.
	bodyEnded bool // Exchange.BodyEnd was called

	trace *streamTrace // nil when tracing is off
}

// handle processes one message from Envoy; done means the stream has
// nothing more to do (an immediate response went out).
func (st *stream) handle(req *extprocv3.ProcessingRequest) (done bool, err error) {
	md := req.GetMetadataContext()
	switch v := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		if st.phase != phaseRequestHeaders {
			return true, protocolError("request headers twice")
		}
		if v.RequestHeaders.GetEndOfStream() {
			st.requestEnded()
		}
		return st.requestHeaders(v.RequestHeaders, md)
	case *extprocv3.ProcessingRequest_RequestBody:
		if st.phase != phaseRequestBody {
			return true, protocolError("request body outside the request")
		}
		if v.RequestBody.GetEndOfStream() {
			st.requestEnded()
		}
		return st.requestBody(v.RequestBody.GetBody(), v.RequestBody.GetEndOfStream(), md)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		if st.phase != phaseRequestBody {
			return true, protocolError("request trailers outside the request")
		}
		st.requestEnded()
		st.noteSubset(md)
		return st.decide(true)
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		if st.phase != phaseRouted {
			return true, protocolError("response headers before a decision")
		}
		return false, st.responseHeaders(v.ResponseHeaders, md)
	case *extprocv3.ProcessingRequest_ResponseBody:
		if st.phase != phaseResponseBody {
			return true, protocolError("response body outside the response")
		}
		return false, st.responseBody(v.ResponseBody.GetBody(), v.ResponseBody.GetEndOfStream())
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		if st.phase != phaseResponseBody {
			return true, protocolError("response trailers outside the response")
		}
		return false, st.responseTrailers()
	}
	return false, nil // flow-control-only messages: nothing to do
}

// protocolError is the stream's error for a message out of Envoy's order.
func protocolError(what string) error {
	return status.Error(codes.FailedPrecondition, "ext_proc protocol: "+what)
}

// requestHeaders reads the request headers: /v1/models, unknown paths and
// methods are answered at once; an inference request starts its exchange
// and waits for its body (or is decided now when it has none).
func (st *stream) requestHeaders(h *extprocv3.HttpHeaders, md *corev3.Metadata) (bool, error) {
	s := st.s
	hs := headersOf(h.GetHeaders())
	given := hs.get(exchange.HeaderRequestID)
	st.id = exchange.RequestID(given)
	st.idChanged = st.id != given
	path, method := pathOnly(hs.get(headerPath)), hs.get(headerMethod)
	st.kind = openai.KindFromPath(path)
	switch {
	case path == "/v1/models":
		if method != http.MethodGet && method != http.MethodHead {
			return true, st.sendImmediate(openai.NewError(http.StatusMethodNotAllowed, openai.TypeInvalidRequest, "method_not_allowed", "", "Use GET for /v1/models."), "")
		}
		return true, st.sendModels()
	case st.kind == openai.KindOther:
		return true, st.sendImmediate(openai.NewError(http.StatusNotFound, openai.TypeInvalidRequest, "unknown_url", "",
			"Unknown request URL: "+clip(method)+" "+clip(path)+"."), "")
	case method != http.MethodPost:
		return true, st.sendImmediate(openai.NewError(http.StatusMethodNotAllowed, openai.TypeInvalidRequest, "method_not_allowed", "", "Use POST for "+path+"."), "")
	}
	st.x = s.ex.Start(st.id)
	if s.tracer != nil {
		st.startTrace(hs, path)
	}
	st.phase = phaseRequestBody
	if !s.inflight.TryAcquire() {
		return true, st.fail(exchange.ErrSaturated)
	}
	st.inflight = true
	if s.dropCtl {
		for _, name := range exchange.ControlHeaders {
			if hs.has(name) {
				st.remove = append(st.remove, name)
			}
		}
		st.ctl, _ = exchange.ReadControl(func(string) string { return "" })
	} else {
		ctl, err := exchange.ReadControl(hs.get)
		if err != nil {
			return true, st.fail(err)
		}
		st.ctl = ctl
	}
	st.noteSubset(md)
	if h.GetEndOfStream() {
		return st.decide(false)
	}
	if n, err := strconv.ParseInt(hs.get(headerContentLength), 10, 64); err == nil && n > 0 && n <= s.maxBody {
		st.bodyHint = n
	}
	return false, nil
}

// noteSubset keeps the subset hint of a message's metadata, when it has one.
func (st *stream) noteSubset(md *corev3.Metadata) {
	if sub := subsetHint(md); sub != nil {
		st.subset = sub
	}
}

// clip shortens a client-supplied string quoted in an error message.
func clip(s string) string {
	const n = 256
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// initialBodyBuf is the first body buffer's capacity (or the first chunk's
// size when larger).
const initialBodyBuf = 64 << 10

// requestBody buffers a body chunk within the size limit and the body
// budget; the last chunk triggers the decision. A body that comes in one
// message is kept as it is: the message's bytes are this stream's (gRPC's
// unmarshalling copied them out of its buffers), so they are not copied
// again. A body in several messages goes into a pooled buffer sized by the
// request's content-length when it had one.
func (st *stream) requestBody(chunk []byte, eos bool, md *corev3.Metadata) (bool, error) {
	s := st.s
	st.noteSubset(md)
	need := int64(len(st.body)) + int64(len(chunk))
	if need > s.maxBody {
		return true, st.fail(exchange.ErrBodyTooLarge)
	}
	if eos && st.body == nil {
		if !st.reserve(int64(cap(chunk))) {
			return true, st.fail(exchange.ErrSaturated)
		}
		st.body = chunk
		return st.decide(false)
	}
	if need > int64(cap(st.body)) {
		n := max(need, min(2*int64(cap(st.body)), s.maxBody), initialBodyBuf)
		if st.body == nil && st.bodyHint >= need {
			n = st.bodyHint
		}
		n = min(n, max(need, s.maxBody))
		nb := s.bodies.get(n)
		if !st.reserve(int64(cap(nb.b))) {
			s.bodies.put(nb)
			return true, st.fail(exchange.ErrSaturated)
		}
		body := append(nb.b, st.body...)
		st.unreserve(int64(cap(st.body)))
		st.releaseBody()
		st.body, st.bodyBuf = body, nb
	}
	st.body = append(st.body, chunk...)
	if eos {
		return st.decide(false)
	}
	return false, nil
}

// reserve takes n bytes of the body budget, reporting whether they were
// available.
func (st *stream) reserve(n int64) bool {
	if !st.s.budget.TryReserve(n) {
		return false
	}
	st.held += n
	return true
}

// unreserve returns n bytes of the stream's share of the body budget.
func (st *stream) unreserve(n int64) {
	st.s.budget.Release(n)
	st.held -= n
}

// decide parses and routes the complete request and answers Envoy with the
// decision and the body, or with an immediate response; trailers says the
// request ended with trailers (answered after the body).
func (st *stream) decide(trailers bool) (bool, error) {
	s, x := st.s, st.x
	if st.trace != nil {
		st.trace.startDecision()
	}
	req, err := openai.ParseRequest(st.body, st.kind)
	if err != nil {
		if st.trace != nil {
			st.trace.endDecision(openai.Request{}, nil, err)
		}
		return true, st.fail(err)
	}
	x.Parsed(req)
	x.SetFairnessID(st.ctl.FairnessID)
	in := router.Input{
		Model:        req.Model,
		Prompt:       req.Prompt,
		MaxTokens:    req.MaxTokens,
		Objective:    st.ctl.Objective,
		ModelRewrite: st.ctl.Rewrite,
		Pool:         s.pool,
	}
	if st.trace != nil {
		in.TraceID = st.trace.id
	}
	if st.subset != nil {
		in.Allow = st.subset.allows
	}
	if s.fallbacks > 0 || s.scores {
		in.Ranking = &st.ranking
	}
	dec, err := s.router.Prepare(in)
	if err != nil {
		return true, st.failDecision(req, dec, err)
	}
	x.Resolved(dec)
	// The pool's flow control, in this front end's mode (shed by default):
	// a queued request holds the stream until dispatched, refused or the
	// stream's context ends (Envoy gave up).
	st.tk, err = dec.Flow.Enqueue(st.srv.Context(), admission.Item{
		Mode:        s.flowMode,
		Priority:    dec.Priority,
		FairnessID:  st.ctl.FairnessID,
		SLO:         time.Duration(st.ctl.SLOTTFTMillis) * time.Millisecond,
		Bytes:       st.held,
		Model:       req.Model,
		TargetModel: dec.TargetModel,
	})
	if err != nil {
		return true, st.failDecision(req, dec, err)
	}
	if err := s.router.Pick(dec, req.Prompt); err != nil {
		return true, st.failDecision(req, dec, err)
	}
	if st.trace != nil {
		st.trace.queueWait(st.tk.Waited())
		st.trace.endDecision(req, dec, nil)
	}
	st.dec = dec
	out := x.Begin(dec, st.body)
	if n := copiedBytes(&out); n > 0 && !st.reserve(int64(n)) {
		return true, st.fail(exchange.ErrSaturated)
	}
	x.Attempt(dec.Endpoint)
	st.tk.Routed() // the endpoint counts this request now
	st.answered = true
	st.phase = phaseRouted
	if err := st.srv.Send(st.decision(dec, out.Len())); err != nil {
		return true, err
	}
	st.decisionSent()
	if err := st.sendRequestBody(&out, trailers); err != nil {
		return true, err
	}
	if trailers {
		if err := st.srv.Send(trailersResponse(true)); err != nil {
			return true, err
		}
	}
	// The body went out; its memory is Envoy's business now.
	x.DropPrompt()
	st.releaseBody()
	st.s.budget.Release(st.held)
	st.held = 0
	return false, nil
}

// failDecision ends the decision span with err and answers the request
// with it.
func (st *stream) failDecision(req openai.Request, dec *router.Decision, err error) error {
	if st.trace != nil {
		st.trace.endDecision(req, dec, err)
	}
	return st.fail(err)
}

// bodyChunkBytes is the largest body piece sent back in one message, below
// Envoy's recommended 64 KiB. It keeps each marshalled message within
// gRPC's 32 KiB buffer tier: upstream's 62,000 bytes land in the 1 MiB
// tier, which gRPC zeroes on every reuse (measured: about 4 MB cleared and
// most of the picker's CPU for a 220 KB body).
const bodyChunkBytes = 32_000

// fail answers the request with the error for err, recorded by the
// exchange.
func (st *stream) fail(err error) error {
	e, dropped := st.x.Fail(err)
	return st.sendImmediate(e, dropped)
}

// responseHeaders records the response's start: the endpoint that served,
// the status and whether the body is an SSE stream.
func (st *stream) responseHeaders(h *extprocv3.HttpHeaders, md *corev3.Metadata) error {
	x := st.x
	hs := headersOf(h.GetHeaders())
	ep := st.dec.Endpoint
	if served := endpointAt(st.dec.Pool.Load(), servedAddress(md)); served != nil && served != ep {
		// Envoy sent it elsewhere (a retry, a fallback): account it there.
		x.Attempt(served)
		ep = served
	}
	x.Served(ep)
	code := statusOf(hs.get(headerStatus))
	if st.trace != nil {
		st.trace.startResponse(code)
	}
	reframe := x.ResponseStarted(code, isEventStream(hs.get(headerContentType)))
	st.phase = phaseResponseBody
	if err := st.srv.Send(responseHeadersResponse(reframe && hs.has(headerContentLength))); err != nil {
		return err
	}
	if h.GetEndOfStream() {
		st.endBody()
	}
	return nil
}

// responseBody passes a response body chunk on through the exchange; the
// last one also carries what the exchange held back.
func (st *stream) responseBody(chunk []byte, eos bool) error {
	out := st.x.Chunk(nil, chunk)
	if eos {
		out = st.x.Flush(out)
		st.endBody()
	}
	if len(out) == 0 && !eos {
		return nil // an SSE event still incomplete: it goes out with the next chunk
	}
	return st.srv.Send(bodyResponse(false, out, eos))
}

// responseTrailers ends the response body (what the exchange held back goes
// out first) and lets the trailers through.
func (st *stream) responseTrailers() error {
	tail := st.x.Flush(nil)
	st.endBody()
	if len(tail) > 0 {
		if err := st.srv.Send(bodyResponse(false, tail, false)); err != nil {
			return err
		}
	}
	return st.srv.Send(trailersResponse(false))
}

// endBody records the clean end of the response body.
func (st *stream) endBody() {
	st.x.BodyEnd(io.EOF)
	st.bodyEnded = true
	st.phase = phaseDone
}

// finish runs once per stream, however it ended: it returns the body
// budget and the in-flight slot and ends the exchange. A stream that ended
// before its response did means the client (or Envoy) went away.
func (st *stream) finish() {
	if st.held > 0 {
		st.s.budget.Release(st.held)
		st.held = 0
	}
	if st.inflight {
		st.s.inflight.Release()
		st.inflight = false
	}
	st.tk.Release()
	if st.x == nil {
		st.releaseBody()
		return
	}
	gone := st.phase != phaseDone && st.answered && st.dec != nil
	if st.phase == phaseResponseBody && !st.bodyEnded {
		st.x.BodyEnd(exchange.ErrClosedEarly)
	}
	st.x.End(exchange.Outcome{ClientGone: gone})
	if st.trace != nil {
		status, code := st.x.Status()
		usage, ok := st.x.Usage()
		st.endTrace(status, code, usage, ok)
	}
	st.x.DropPrompt()
	st.x = nil
	st.releaseBody()
}

// releaseBody forgets the request body, returning its buffer to the pool
// when it is the stream's: nothing may reference the bytes any more (the
// exchange's prompt dropped, the messages carrying them sent).
func (st *stream) releaseBody() {
	st.body = nil
	if st.bodyBuf != nil {
		st.s.bodies.put(st.bodyBuf)
		st.bodyBuf = nil
	}
}
