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

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/telemetry"
)

// Control headers clients (or an upstream proxy) may send.
const (
	HeaderObjective    = "x-gateway-inference-objective"
	HeaderModelRewrite = "x-gateway-model-name-rewrite"
	HeaderRequestID    = "x-request-id"
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
	scheme   string // upstream URL scheme: "http" or "https"
	now      func() time.Time
	rp       *httputil.ReverseProxy
	started  int64
	bufs     sync.Pool
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
		scheme:   "http",
		now:      o.Now,
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

	buf, err := h.readBody(r)
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
		Objective:    r.Header.Get(HeaderObjective),
		ModelRewrite: r.Header.Get(HeaderModelRewrite),
	})
	if err != nil {
		h.fail(w, x, err)
		return
	}
	x.body = x.req.Rewrite(body, x.dec.TargetModel, x.req.Stream)
	if h.metrics != nil {
		h.metrics.RunningAdd(x.req.Model, 1)
		defer h.metrics.RunningAdd(x.req.Model, -1)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	x.cancel = cancel
	x.acquire(x.dec.Endpoint)
	h.rp.ServeHTTP(w, r.WithContext(withExchange(ctx, x)))
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

// readBody reads the request body into a pooled buffer, enforcing the limit.
func (h *Handler) readBody(r *http.Request) (*[]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, errBodyTooLarge
	}
	buf := h.getBuf(r.ContentLength)
	rd := http.MaxBytesReader(nil, r.Body, h.maxBody)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
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
			return buf, errReadBody
		}
	}
	*buf = b
	return buf, nil
}

const maxPooledBuf = 4 << 20

func (h *Handler) getBuf(size int64) *[]byte {
	if p, ok := h.bufs.Get().(*[]byte); ok {
		if size <= 0 || int64(cap(*p)) >= size+1 {
			return p
		}
		h.bufs.Put(p)
	}
	n := 64 << 10
	if size > 0 {
		n = int(size) + 1 // +1 so the final Read sees EOF without growing
	}
	b := make([]byte, 0, n)
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
	if e.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, e)
}

// writeError writes e as an OpenAI error body.
func writeError(w http.ResponseWriter, e *openai.Error) { openai.WriteError(w, e) }

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
