package proxy

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/openaihttp"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/tracing"
)

// Options configure a Handler. Router is required.
type Options struct {
	// Router makes routing decisions.
	Router *router.Router
	// Metrics records request metrics (telemetry.Metrics implements it);
	// nil records nothing.
	Metrics exchange.Observer
	// Logger receives access logs (Info) and errors; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (413 beyond); 0 means 16 MiB.
	MaxBodyBytes int64
	// MaxBufferedBodyBytes bounds the body memory all in-flight requests
	// hold together (503 beyond); 0 means 1 GiB.
	MaxBufferedBodyBytes int64
	// InFlight, when set, is the in-flight cap to use instead of one of
	// MaxInFlight (shared with the ext_proc front end).
	InFlight *admission.InFlight
	// BodyReadTimeout bounds the arrival of a request body (408 beyond);
	// 0 means 30s.
	BodyReadTimeout time.Duration
	// ClientStallTimeout is how long a response write may block on a client
	// that takes no bytes before the request is cancelled; 0 means 30s.
	ClientStallTimeout time.Duration
	// Budget, when set, is the body budget to use instead of one of
	// MaxBufferedBodyBytes: shared with the ext_proc front end, and the one
	// the pools' flow control marks its queued bytes in, so a budget spent
	// by queued requests answers 429 rejected-saturated (the queue is full)
	// instead of 503.
	Budget *admission.Budget
	// QueueRetryAfter, when set, gives the Retry-After of a 429 for a
	// budget spent by queued requests; nil means one second.
	QueueRetryAfter func() time.Duration
	// MaxInFlight caps inference requests being read or served (503
	// beyond); 0 means 10000.
	MaxInFlight int
	// OverLimit, when set, reports whether r arrived on a connection past
	// the connection limits; such a request gets 503 and the connection is
	// closed.
	OverLimit func(r *http.Request) bool
	// MaxRetries is how many other endpoints are tried before the first
	// response byte; negative means 0.
	MaxRetries int
	// ConnectTimeout bounds dialing an endpoint; 0 means 5s.
	ConnectTimeout time.Duration
	// FirstByteTimeout bounds the wait for response headers; 0 means 5m.
	FirstByteTimeout time.Duration
	// IdleTimeout bounds the gap between response body reads; 0 means 2m.
	IdleTimeout time.Duration
	// Staleness is how old an endpoint's scraped metrics may be. An attempt
	// without response headers yet is abandoned and retried elsewhere when
	// its endpoint's metrics go stale or outlier detection ejects it
	// (abandon.go); 0 turns that off.
	Staleness time.Duration
	// HedgeAfter, when positive, sends a second copy of a request that has
	// no response headers after this long to another endpoint and keeps
	// the first answer (hedge.go); 0 turns hedging off.
	HedgeAfter time.Duration
	// StripAuthorization drops the client's Authorization header instead of
	// forwarding it unchanged.
	StripAuthorization bool
	// DropControlHeaders removes the control headers (objective, fairness
	// ID, model rewrite, SLOs) clients send instead of trusting them; see
	// config.Config.TrustControlHeaders.
	DropControlHeaders bool
	// TLS, when set, makes the proxy speak HTTPS to the endpoints with this
	// configuration (the built transport uses it; an injected Transport
	// must trust the servers itself). Nil means plain HTTP.
	TLS *tls.Config
	// Transport sends requests upstream; nil builds one from the timeouts
	// and TLS.
	Transport http.RoundTripper
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tracer creates the request's spans and Propagator reads and writes
	// W3C traceparent/tracestate; both nil (tracing off) creates none.
	Tracer trace.Tracer
	// Propagator carries the trace context to and from headers; required
	// with Tracer.
	Propagator propagation.TextMapPropagator
}

// Handler is the OpenAI-compatible proxy. It serves POST /v1/completions,
// /v1/chat/completions and /v1/embeddings, and GET /v1/models.
type Handler struct {
	router   *router.Router
	ex       *exchange.Tracker
	log      *slog.Logger
	maxBody  int64
	retries  int
	idle     time.Duration
	firstB   time.Duration
	staleAge time.Duration // Options.Staleness
	hedge    time.Duration // Options.HedgeAfter
	stripAut bool
	dropCtl  bool
	scheme   string // upstream URL scheme: "http" or "https"
	now      func() time.Time
	upstream http.RoundTripper
	bufs     sync.Pool
	budget   *admission.Budget
	retryQ   func() time.Duration
	inflight *admission.InFlight
	bodyTO   time.Duration
	stall    time.Duration
	overLim  func(*http.Request) bool
	tracer   trace.Tracer // nil: tracing off
	prop     propagation.TextMapPropagator
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Router == nil {
		panic("proxy: Router is required")
	}
	h := &Handler{
		router:   o.Router,
		log:      o.Logger,
		maxBody:  o.MaxBodyBytes,
		retries:  max(o.MaxRetries, 0),
		idle:     o.IdleTimeout,
		firstB:   o.FirstByteTimeout,
		staleAge: o.Staleness,
		hedge:    o.HedgeAfter,
		stripAut: o.StripAuthorization,
		dropCtl:  o.DropControlHeaders,
		scheme:   "http",
		now:      o.Now,
		bodyTO:   o.BodyReadTimeout,
		stall:    o.ClientStallTimeout,
		overLim:  o.OverLimit,
	}
	if o.Tracer != nil && o.Propagator != nil {
		h.tracer, h.prop = o.Tracer, o.Propagator
	}
	if o.TLS != nil {
		h.scheme = "https"
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = 16 << 20
	}
	if h.idle <= 0 {
		h.idle = 2 * time.Minute
	}
	if h.firstB <= 0 {
		h.firstB = 5 * time.Minute
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.bodyTO <= 0 {
		h.bodyTO = 30 * time.Second
	}
	if h.stall <= 0 {
		h.stall = 30 * time.Second
	}
	budget := o.MaxBufferedBodyBytes
	if budget <= 0 {
		budget = 1 << 30
	}
	h.budget = o.Budget
	if h.budget == nil {
		h.budget = admission.NewBudget(budget)
	}
	h.retryQ = o.QueueRetryAfter
	inflight := o.MaxInFlight
	if inflight <= 0 {
		inflight = 10000
	}
	h.inflight = admission.NewInFlight(inflight)
	if o.InFlight != nil {
		h.inflight = o.InFlight
	}
	h.ex = exchange.New(exchange.Options{Observer: o.Metrics, Logger: h.log, Now: h.now})
	h.upstream = o.Transport
	if h.upstream == nil {
		h.upstream = newTransport(o.ConnectTimeout, o.TLS)
	}
	return h
}

// newTransport returns the upstream transport: HTTP/1.1 keep-alive
// connections (over TLS with tlsCfg, plain when it is nil), many per
// endpoint, no transparent compression.
func newTransport(connect time.Duration, tlsCfg *tls.Config) *http.Transport {
	if connect <= 0 {
		connect = 5 * time.Second
	}
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: connect,
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := exchange.RequestID(r.Header.Get(exchange.HeaderRequestID))
	w.Header().Set(exchange.HeaderRequestID, id)
	if h.overLim != nil && h.overLim(r) {
		h.rejectConn(w)
		return
	}
	kind := openai.KindFromPath(r.URL.Path)
	switch {
	case r.URL.Path == "/v1/models":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, openai.NewError(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "Use GET for /v1/models."))
			return
		}
		h.serveModels(w)
	case kind == openai.KindOther:
		writeError(w, openai.NewError(http.StatusNotFound, "invalid_request_error", "unknown_url", "", "Unknown request URL: "+r.Method+" "+r.URL.Path+"."))
	case r.Method != http.MethodPost:
		writeError(w, openai.NewError(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "Use POST for "+r.URL.Path+"."))
	default:
		h.serveInference(w, r, id, kind)
	}
}

// serveInference serves one inference request top-down: take an in-flight
// slot, read and parse the body, resolve its pool, pass flow control, pick
// an endpoint, then forward (forward.go). The exchange records
// every step; finish closes it whatever happened, aborts included.
func (h *Handler) serveInference(w http.ResponseWriter, r *http.Request, id string, kind openai.Kind) {
	c := &call{h: h, in: r, x: h.ex.Start(id)}
	if h.tracer != nil {
		c.startTrace(kind)
	}
	defer h.finish(c)
	if !h.inflight.TryAcquire() {
		h.fail(w, c, exchange.ErrSaturated)
		return
	}
	defer h.inflight.Release()

	ctl, err := readControlHeaders(r.Header, !h.dropCtl)
	if err != nil {
		h.fail(w, c, err)
		return
	}
	c.x.SetFairnessID(ctl.FairnessID)
	if c.trace != nil {
		c.trace.startChild(c.in.Context(), tracing.SpanParse)
	}
	buf, err := h.readBodyBounded(w, r, c)
	if buf != nil {
		defer h.putBuf(buf)
	}
	if err != nil {
		h.fail(w, c, h.budgetErr(err))
		return
	}
	body := *buf
	req, err := openai.ParseRequest(body, kind)
	if err != nil {
		h.fail(w, c, err)
		return
	}
	c.x.Parsed(req)
	if c.trace != nil {
		c.trace.endParse(req, len(body), nil)
		c.trace.startChild(c.in.Context(), tracing.SpanRoute)
	}
	dec, err := h.router.Prepare(router.Input{
		Model:        req.Model,
		Prompt:       req.Prompt,
		MaxTokens:    req.MaxTokens,
		Objective:    ctl.Objective,
		ModelRewrite: ctl.Rewrite,
		TraceID:      c.traceID(),
	})
	if err != nil {
		if c.trace != nil {
			c.trace.endRoute(dec, err)
		}
		h.fail(w, c, err)
		return
	}
	c.x.Resolved(dec)
	c.tk, err = dec.Flow.Enqueue(r.Context(), admission.Item{
		Priority:    dec.Priority,
		FairnessID:  ctl.FairnessID,
		SLO:         time.Duration(ctl.SLOTTFTMillis) * time.Millisecond,
		Bytes:       c.held,
		Model:       req.Model,
		TargetModel: dec.TargetModel,
	})
	if err != nil {
		h.fail(w, c, err)
		return
	}
	defer c.tk.Release()
	if waited := c.tk.Waited(); waited > 0 {
		w.Header().Set(exchange.HeaderQueueWait, strconv.FormatInt(waited.Milliseconds(), 10))
	}
	if err := h.router.Pick(dec, req.Prompt); err != nil {
		h.fail(w, c, err)
		return
	}
	if c.trace != nil {
		c.trace.queueWait(c.tk.Waited())
		c.trace.endRoute(dec, nil)
	}
	c.forward(w, dec, c.x.Begin(dec, body))
}

// finish runs once per inference request, after the response is done or
// failed (a panic included): it returns the request's body budget and ends
// the exchange with what the transport saw.
func (h *Handler) finish(c *call) {
	h.budget.Release(c.held)
	c.held = 0
	c.x.End(exchange.Outcome{
		TimedOut:   c.timedOut.Load(),
		Stalled:    c.stalled.Load(),
		ClientGone: c.in.Context().Err() != nil,
	})
	if c.trace != nil {
		c.endTrace()
	}
}

// readBodyBounded reads the request body within the body read timeout: the
// connection's read deadline is set for the read and cleared after it, so the
// server's background read and long streams are unaffected.
func (h *Handler) readBodyBounded(w http.ResponseWriter, r *http.Request, c *call) (*[]byte, error) {
	rc := http.NewResponseController(w)
	// Deadlines are wall-clock times of the connection, not the injected clock.
	_ = rc.SetReadDeadline(time.Now().Add(h.bodyTO))
	buf, err := h.readBody(r, c)
	_ = rc.SetReadDeadline(time.Time{})
	if errors.Is(err, exchange.ErrBodyTimeout) {
		w.Header().Set("Connection", "close")
	}
	return buf, err
}

// initialBodyBuf is the largest buffer allocated before body bytes arrive;
// a client's Content-Length never sizes more than this.
const initialBodyBuf = 64 << 10

// readBody reads the request body into a pooled buffer, enforcing the size
// limit and the shared body budget. The buffer starts at most
// [initialBodyBuf] bytes and doubles as bytes arrive (up to the declared
// length); every byte of capacity is reserved in the budget before it is
// allocated, a replaced buffer's bytes are returned, and finish returns the
// rest.
func (h *Handler) readBody(r *http.Request, c *call) (*[]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, exchange.ErrBodyTooLarge
	}
	// +1 so the final Read of a body of the declared length sees EOF
	// without growing.
	limit := h.maxBody + 1
	if r.ContentLength >= 0 {
		limit = r.ContentLength + 1
	}
	buf := h.getBuf(min(limit, initialBodyBuf))
	if !h.reserve(c, cap(*buf)) {
		h.putBuf(buf)
		return nil, exchange.ErrSaturated
	}
	rd := http.MaxBytesReader(nil, r.Body, h.maxBody)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			n := max(min(2*int64(cap(b)), limit), int64(cap(b))+1)
			if !h.reserve(c, int(n)) {
				*buf = b
				return buf, exchange.ErrSaturated
			}
			nb := make([]byte, len(b), n)
			copy(nb, b)
			h.unreserve(c, cap(b)) // the old buffer is garbage now
			b = nb
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return buf, exchange.ErrBodyTooLarge
			}
			if isTimeout(err) {
				return buf, exchange.ErrBodyTimeout
			}
			return buf, exchange.ErrReadBody
		}
	}
	*buf = b
	return buf, nil
}

// budgetErr turns a refusal by the body budget into a full flow-control
// queue (429) when queued requests hold part of the budget; other errors
// pass unchanged.
func (h *Handler) budgetErr(err error) error {
	if !errors.Is(err, exchange.ErrSaturated) || h.budget.Queued() <= 0 {
		return err
	}
	after := time.Second
	if h.retryQ != nil {
		after = h.retryQ()
	}
	return &admission.Rejection{Err: admission.ErrQueueFull, RetryAfter: max(after, time.Second)}
}

// reserve takes n bytes of the body budget for c, reporting whether they
// were available.
func (h *Handler) reserve(c *call, n int) bool {
	if !h.budget.TryReserve(int64(n)) {
		return false
	}
	c.held += int64(n)
	return true
}

// unreserve returns n bytes of c's share of the body budget.
func (h *Handler) unreserve(c *call, n int) {
	h.budget.Release(int64(n))
	c.held -= int64(n)
}

// maxPooledBuf is the largest body buffer kept for reuse.
const maxPooledBuf = 256 << 10

// getBuf returns an empty buffer of at least size bytes of capacity.
func (h *Handler) getBuf(size int64) *[]byte {
	if p, ok := h.bufs.Get().(*[]byte); ok {
		if int64(cap(*p)) >= size {
			return p
		}
		h.bufs.Put(p)
	}
	b := make([]byte, 0, size)
	return &b
}

func (h *Handler) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		h.bufs.Put(b)
	}
}

// fail answers the client with the OpenAI error for err.
func (h *Handler) fail(w http.ResponseWriter, c *call, err error) {
	e, dropped := c.x.Fail(err)
	if c.trace != nil {
		status, code := c.x.Status()
		c.trace.failed(status, code, dropped)
		c.trace.endChild(err)
	}
	if dropped != "" {
		after, ok := admission.RetryAfter(err)
		if !ok {
			after = time.Second
		}
		setDropped(w.Header(), dropped, after)
	}
	writeError(w, e)
}

// rejectConn answers a request on a connection past the connection limits:
// 503, and the connection is closed after the answer.
func (h *Handler) rejectConn(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	setDropped(w.Header(), exchange.DroppedSaturated, time.Second)
	writeError(w, exchange.ErrTooManyConns())
}

// writeError writes e as an OpenAI error body.
func writeError(w http.ResponseWriter, e *openai.Error) { openaihttp.WriteError(w, e) }

// serveModels answers GET /v1/models with the union of known models.
func (h *Handler) serveModels(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, h.ex.Models(h.router.Models()))
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
