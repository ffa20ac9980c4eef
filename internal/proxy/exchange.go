package proxy

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
)

// exchange is the state of one proxied request, shared by the handler, the
// transport and the response observer through the request context.
type exchange struct {
	id     string
	start  time.Time
	kind   openai.Kind
	req    openai.Request
	body   []byte // the (possibly rewritten) body sent upstream
	prompt []byte // prompt bytes for re-picking on retry
	dec    *router.Decision
	cancel context.CancelFunc
	// clientErr reports whether the client's request context has ended.
	clientErr func() error

	// acquired is the endpoint whose in-flight counters this exchange holds.
	acquired *pool.Endpoint
	attempts int

	// Outcome.
	status     int          // status sent to (or meant for) the client
	errorCode  string       // telemetry error code, "" on success
	upstream   int          // upstream status, 0 when none
	headersAt  time.Time    // when upstream response headers arrived
	firstToken time.Time    // first SSE data event (streams)
	lastToken  time.Time    // last SSE data event (streams)
	events     int          // SSE data events
	respBytes  int          // bytes sent to the client
	usage      openai.Usage // from the response, when reported
	usageOK    bool         // usage was found
	bodyErr    error        // error reading the upstream body, if any
	timedOut   atomic.Bool  // a first-byte or idle timeout fired
	stalled    atomic.Bool  // the client took no bytes for the stall timeout
	held       int64        // body-budget bytes held (released by finish)
	finishedAt time.Time    // upstream body finished
	streamed   bool         // the response was SSE
}

type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// acquire records x's request on ep.
func (x *exchange) acquire(ep *pool.Endpoint) {
	ep.Acquire(x.dec.Tokens)
	x.acquired = ep
}

// release ends x's hold on its endpoint, if any.
func (x *exchange) release() {
	if x.acquired != nil {
		x.acquired.Release(x.dec.Tokens)
		x.acquired = nil
	}
}

// isStream reports whether a response is an SSE stream.
func isStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= len("text/event-stream") && ct[:len("text/event-stream")] == "text/event-stream"
}
