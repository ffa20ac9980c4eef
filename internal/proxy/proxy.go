package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/openaihttp"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/telemetry"
)

// Options configure a Handler. Router is required.
type Options struct {
	// Router makes routing decisions.
	Router *router.Router
	// Metrics records request metrics; nil records nothing.
	Metrics *telemetry.Metrics
	// Logger receives access logs (Info) and errors; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (413 beyond); 0 means 16 MiB.
	MaxBodyBytes int64
	// MaxBufferedBodyBytes bounds the body memory all in-flight requests
	// hold together (503 beyond); 0 means 1 GiB.
	MaxBufferedBodyBytes int64
	// BodyReadTimeout bounds the arrival of a request body (408 beyond);
	// 0 means 30s.
	BodyReadTimeout time.Duration
	// ClientStallTimeout is how long a response write may block on a client
	// that takes no bytes before the request is cancelled; 0 means 30s.
	ClientStallTimeout time.Duration
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
}

// Handler is the OpenAI-compatible proxy. It serves POST /v1/completions,
// /v1/chat/completions and /v1/embeddings, and GET /v1/models.
type Handler struct {
	router   *router.Router
	metrics  *telemetry.Metrics
	log      *slog.Logger
	maxBody  int64
	retries  int
	idle     time.Duration
	firstB   time.Duration
	stripAut bool
	dropCtl  bool
	scheme   string // upstream URL scheme: "http" or "https"
	now      func() time.Time
	rp       *httputil.ReverseProxy
	started  int64
	bufs     sync.Pool
	budget   *admission.Budget
	inflight *admission.InFlight
	bodyTO   time.Duration
	stall    time.Duration
	overLim  func(*http.Request) bool
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Router == nil {
		panic("proxy: Router is required")
	}
	h := &Handler{
		router:   o.Router,
		metrics:  o.Metrics,
		log:      o.Logger,
		maxBody:  o.MaxBodyBytes,
		retries:  max(o.MaxRetries, 0),
		idle:     o.IdleTimeout,
		firstB:   o.FirstByteTimeout,
		stripAut: o.StripAuthorization,
		dropCtl:  o.DropControlHeaders,
		scheme:   "http",
		now:      o.Now,
		bodyTO:   o.BodyReadTimeout,
		stall:    o.ClientStallTimeout,
		overLim:  o.OverLimit,
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
	h.budget = admission.NewBudget(budget)
	inflight := o.MaxInFlight
	if inflight <= 0 {
		inflight = 10000
	}
	h.inflight = admission.NewInFlight(inflight)
	h.started = h.now().Unix()
	base := o.Transport
	if base == nil {
		base = newTransport(o.ConnectTimeout, o.TLS)
	}
	h.rp = &httputil.ReverseProxy{
		Rewrite:        h.rewrite,
		Transport:      &retryTransport{h: h, base: base},
		FlushInterval:  -1,
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.errorHandler,
		ErrorLog:       log.New(slogWriter{h.log}, "", 0),
		BufferPool:     copyBuffers{},
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
	id := requestID(r.Header.Get(HeaderRequestID))
	w.Header().Set(HeaderRequestID, id)
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

func (h *Handler) serveInference(w http.ResponseWriter, r *http.Request, id string, kind openai.Kind) {
	x := &exchange{id: id, start: h.now(), kind: kind, clientErr: r.Context().Err}
	defer h.finish(x)
	if !h.inflight.TryAcquire() {
		h.fail(w, x, errSaturated)
		return
	}
	defer h.inflight.Release()

	ctl, err := readControlHeaders(r.Header, !h.dropCtl)
	if err != nil {
		h.fail(w, x, err)
		return
	}
	buf, err := h.readBodyBounded(w, r, x)
	if buf != nil {
		defer h.putBuf(buf)
	}
	if err != nil {
		h.fail(w, x, err)
		return
	}
	body := *buf
	x.req, err = openai.ParseRequest(body, kind)
	if err != nil {
		h.fail(w, x, err)
		return
	}
	x.prompt = x.req.Prompt
	x.dec, err = h.router.Route(router.Input{
		Model:        x.req.Model,
		Prompt:       x.req.Prompt,
		MaxTokens:    x.req.MaxTokens,
		Objective:    ctl.objective,
		ModelRewrite: ctl.rewrite,
	})
	if err != nil {
		h.fail(w, x, err)
		return
	}
	x.body = x.req.Rewrite(body, x.dec.TargetModel, x.req.Stream)
	if len(x.body) > 0 && &x.body[0] != &body[0] && !h.reserve(x, cap(x.body)) {
		x.body = nil
		h.fail(w, x, errSaturated)
		return
	}
	if h.metrics != nil {
		h.metrics.RunningAdd(x.req.Model, 1)
		defer h.metrics.RunningAdd(x.req.Model, -1)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	x.cancel = cancel
	x.acquire(x.dec.Endpoint)
	h.rp.ServeHTTP(newStallWriter(w, h.stall, x), r.WithContext(withExchange(ctx, x)))
}

// rewrite prepares the outbound request for the endpoint picked by the router.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeFrom(pr.In.Context())
	pr.Out.URL.Scheme = h.scheme
	pr.Out.URL.Host = x.dec.Endpoint.Address()
	pr.Out.Host = x.dec.Endpoint.Address()
	pr.SetXForwarded()
	body := x.body
	pr.Out.Body = io.NopCloser(bytes.NewReader(body))
	pr.Out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	pr.Out.ContentLength = int64(len(body))
	pr.Out.Header.Del("Content-Length")
	pr.Out.Header.Set(HeaderRequestID, x.id)
	if h.stripAut {
		pr.Out.Header.Del("Authorization")
	}
}

// readBodyBounded reads the request body within the body read timeout: the
// connection's read deadline is set for the read and cleared after it, so the
// server's background read and long streams are unaffected.
func (h *Handler) readBodyBounded(w http.ResponseWriter, r *http.Request, x *exchange) (*[]byte, error) {
	rc := http.NewResponseController(w)
	// Deadlines are wall-clock times of the connection, not the injected clock.
	_ = rc.SetReadDeadline(time.Now().Add(h.bodyTO))
	buf, err := h.readBody(r, x)
	_ = rc.SetReadDeadline(time.Time{})
	if errors.Is(err, errBodyTimeout) {
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
func (h *Handler) readBody(r *http.Request, x *exchange) (*[]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, errBodyTooLarge
	}
	// +1 so the final Read of a body of the declared length sees EOF
	// without growing.
	limit := h.maxBody + 1
	if r.ContentLength >= 0 {
		limit = r.ContentLength + 1
	}
	buf := h.getBuf(min(limit, initialBodyBuf))
	if !h.reserve(x, cap(*buf)) {
		h.putBuf(buf)
		return nil, errSaturated
	}
	rd := http.MaxBytesReader(nil, r.Body, h.maxBody)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			n := max(min(2*int64(cap(b)), limit), int64(cap(b))+1)
			if !h.reserve(x, int(n)) {
				*buf = b
				return buf, errSaturated
			}
			nb := make([]byte, len(b), n)
			copy(nb, b)
			h.unreserve(x, cap(b)) // the old buffer is garbage now
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
				return buf, errBodyTooLarge
			}
			if isTimeout(err) {
				return buf, errBodyTimeout
			}
			return buf, errReadBody
		}
	}
	*buf = b
	return buf, nil
}

// reserve takes n bytes of the body budget for x, reporting whether they
// were available.
func (h *Handler) reserve(x *exchange, n int) bool {
	if !h.budget.TryReserve(int64(n)) {
		return false
	}
	x.held += int64(n)
	return true
}

// unreserve returns n bytes of x's share of the body budget.
func (h *Handler) unreserve(x *exchange, n int) {
	h.budget.Release(int64(n))
	x.held -= int64(n)
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
func (h *Handler) fail(w http.ResponseWriter, x *exchange, err error) {
	e, code := statusFor(err, x.req.Model)
	x.status, x.errorCode = e.Status, code
	switch {
	case errors.Is(err, errSaturated), errors.Is(err, admission.ErrShed):
		setDropped(w.Header(), DroppedSaturated, time.Second)
	case errors.Is(err, scheduler.ErrNoEndpoint):
		setDropped(w.Header(), DroppedNoEndpoints, time.Second)
	}
	writeError(w, e)
}

// rejectConn answers a request on a connection past the connection limits:
// 503, and the connection is closed after the answer.
func (h *Handler) rejectConn(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	setDropped(w.Header(), DroppedSaturated, time.Second)
	writeError(w, errTooManyConns())
}

// writeError writes e as an OpenAI error body.
func writeError(w http.ResponseWriter, e *openai.Error) { openaihttp.WriteError(w, e) }

// serveModels answers GET /v1/models with the union of known models.
func (h *Handler) serveModels(w http.ResponseWriter) {
	ids := h.router.Models()
	list := openai.ModelList{Object: "list", Data: make([]openai.Model, 0, len(ids))}
	for _, id := range ids {
		list.Data = append(list.Data, openai.Model{ID: id, Object: "model", Created: h.started, OwnedBy: "infergate"})
	}
	writeJSON(w, http.StatusOK, list)
}

// copyBuffers pools the 32 KiB buffers ReverseProxy copies responses with.
type copyBuffers struct{}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *(copyBufPool.Get().(*[]byte)) }
func (copyBuffers) Put(b []byte) { copyBufPool.Put(&b) }

// slogWriter routes ReverseProxy's internal log lines to slog at debug level.
type slogWriter struct{ log *slog.Logger }

func (s slogWriter) Write(p []byte) (int, error) {
	s.log.Debug("reverse proxy", slog.String("detail", string(bytes.TrimSpace(p))))
	return len(p), nil
}
