package exchange

import (
	"context"
	"log/slog"
	"time"

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
)

// Options configure a [Tracker].
type Options struct {
	// Observer receives every finished request; nil records nothing.
	Observer Observer
	// Logger receives access logs (Info, Warn for 5xx) and upstream
	// failures; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Tracker holds what all exchanges share: the observer, the logger and the
// clock. A front end keeps one and calls [Tracker.Start] per request.
type Tracker struct {
	obs     Observer
	log     *slog.Logger
	now     func() time.Time
	started int64
}

// New returns a Tracker.
func New(o Options) *Tracker {
	t := &Tracker{obs: o.Observer, log: o.Logger, now: o.Now}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.started = t.now().Unix()
	return t
}

// Exchange is the life of one inference request after it arrived, whatever
// the transport. A front end calls, in order: [Tracker.Start]; [Exchange.Parsed]
// and [Exchange.Begin] once the request is parsed and routed (or
// [Exchange.Fail] at any point before the first attempt); [Exchange.Attempt]
// per endpoint tried, with [Exchange.Repick] between attempts; then either
// [Exchange.UpstreamFailed], or [Exchange.Served], [Exchange.ResponseStarted],
// [Exchange.Chunk] per body chunk and [Exchange.BodyEnd]; and [Exchange.End]
// exactly once, last. An Exchange is used by one goroutine.
type Exchange struct {
	t       *Tracker
	id      string
	start   time.Time
	req     openai.Request
	dec     *router.Decision
	bodyLen int // length of the body sent upstream

	held     *pool.Endpoint // endpoint whose in-flight counters are held
	hedge    *pool.Endpoint // a hedge's endpoint, also held, until Keep
	served   *pool.Endpoint // endpoint that answered
	attempts int
	running  bool // counted in the running-requests gauge

	status     int    // status sent to (or meant for) the client
	errorCode  string // "" on success
	upstream   int    // upstream status, 0 when none
	headersAt  time.Time
	firstToken time.Time // first SSE data event (streams)
	lastToken  time.Time // last SSE data event (streams)
	events     int       // SSE data events
	respBytes  int       // bytes passed on to the client
	usage      openai.Usage
	usageOK    bool
	stream     *openai.StreamObserver // set for SSE responses
	tail       *openai.UsageTail      // set for other responses
	bodyDone   bool
	bodyErr    error // error ending the upstream body, nil for a clean end
	finishedAt time.Time
	fairness   string              // the client's fairness ID, "" until read
	routedAt   time.Time           // when Begin was called
	respProc   time.Duration       // time spent in Chunk
	gaps       func(time.Duration) // records inter-token gaps of a stream; nil for none
	traceID    string              // the request's trace ID, "" when tracing is off
	respModel  *responseModel      // the response's model, nil unless asked for
}

// Start begins the exchange of request id, now.
func (t *Tracker) Start(id string) *Exchange {
	return &Exchange{t: t, id: id, start: t.now()}
}

// ID returns the request ID.
func (x *Exchange) ID() string { return x.id }

// Parsed records the parsed request; its model names the request in errors,
// logs and metrics from now on.
func (x *Exchange) Parsed(req openai.Request) { x.req = req }

// SetFairnessID records the request's fairness ID (validated by
// [ReadControl]); metrics carry it, capped, as the fairness_id label.
func (x *Exchange) SetFairnessID(id string) { x.fairness = id }

// SetTraceID records the request's trace ID (32 hex digits) for the access
// log; "" (the default) when tracing is off.
func (x *Exchange) SetTraceID(id string) { x.traceID = id }

// Status returns the status sent to (or meant for) the client and the error
// code ("" on success) as settled so far; after [Exchange.End], the final
// ones.
func (x *Exchange) Status() (status int, errorCode string) { return x.status, x.errorCode }

// Usage returns the usage the response reported, and whether it did.
func (x *Exchange) Usage() (openai.Usage, bool) { return x.usage, x.usageOK }

// ResponseBytes returns the response bytes passed on to the client so far.
func (x *Exchange) ResponseBytes() int { return x.respBytes }

// runningKey is the series the request is counted in while running.
func (x *Exchange) runningKey() Running {
	r := Running{Model: x.req.Model, FairnessID: x.fairness}
	if x.dec != nil {
		r.TargetModel, r.Priority = x.dec.TargetModel, x.dec.Priority
	}
	return r
}

// Resolved records the router's resolution of the request (model, pool,
// target and priority; no endpoint yet), before flow control, so a request
// refused there is labelled with its model and priority rather than
// "unknown". [Exchange.Begin] records the same decision once picked.
func (x *Exchange) Resolved(dec *router.Decision) { x.dec = dec }

// Begin records the routing decision and returns the body to send upstream:
// in, with the model renamed to the decision's target and, for a stream,
// stream_options.include_usage turned on so usage can be recorded (the extra
// usage chunk is removed again in [Exchange.Chunk] when the client did not
// ask for it). The body is returned as the parts of in and the spliced-in
// bytes ([openai.Request.Edit]), not as one rewritten copy: both front
// ends send it on part by part, and in must not change while they do.
func (x *Exchange) Begin(dec *router.Decision, in []byte) openai.Edited {
	x.dec = dec
	x.routedAt = x.t.now()
	out := x.req.Edit(in, dec.TargetModel, x.req.Stream)
	x.bodyLen = out.Len()
	return out
}

// DropPrompt forgets the request's prompt bytes, which alias the body the
// request was parsed from, so that the caller may reuse the body's buffer:
// a front end calls it once the body is forwarded and before it reuses
// the buffer. [Exchange.Repick] and [Exchange.Hedge] pick without prefix
// affinity afterwards.
func (x *Exchange) DropPrompt() { x.req.Prompt = nil }

// Attempt records an attempt on ep: the first one counts the request as
// running; the in-flight counters of ep are acquired, those of any other
// endpoint held are released.
func (x *Exchange) Attempt(ep *pool.Endpoint) {
	x.attempts++
	if !x.running {
		x.running = true
		if x.t.obs != nil {
			x.t.obs.RunningAdd(x.runningKey(), 1)
		}
	}
	if x.held == ep {
		return
	}
	x.release()
	ep.Acquire(x.dec.Tokens)
	x.held = ep
}

// Attempts returns how many attempts were made.
func (x *Exchange) Attempts() int { return x.attempts }

// Repick releases the current endpoint and asks rt for another one, which
// the next [Exchange.Attempt] acquires. When none is left it keeps (and
// holds again) the current endpoint and returns the router's error.
func (x *Exchange) Repick(rt *router.Router) (*pool.Endpoint, error) {
	prev := x.dec.Endpoint
	x.release()
	if err := rt.Retry(x.dec, x.req.Prompt); err != nil {
		x.dec.Endpoint = prev
		prev.Acquire(x.dec.Tokens)
		x.held = prev
		return nil, err
	}
	return x.dec.Endpoint, nil
}

// release ends the hold on an endpoint's in-flight counters, if any (a
// hedge's too, when End runs before Keep).
func (x *Exchange) release() {
	if x.hedge != nil && x.hedge != x.held {
		x.hedge.Release(x.dec.Tokens)
		x.hedge = nil
	}
	if x.held != nil {
		x.held.Release(x.dec.Tokens)
		x.held = nil
	}
}

// Served records the endpoint whose response is passed to the client.
func (x *Exchange) Served(ep *pool.Endpoint) { x.served = ep }

// Fail records err, which ended the request before it was forwarded, and
// returns the error the client gets and, for an admission rejection, the
// [HeaderDroppedReason] value ("" otherwise).
func (x *Exchange) Fail(err error) (*openai.Error, string) {
	e, code := statusFor(err, x.req.Model)
	x.status, x.errorCode = e.Status, code
	return e, droppedReason(err)
}

// UpstreamFailed records that no response came from upstream: err is the
// last attempt's error, timedOut whether the first-byte timeout fired and
// clientGone whether the client's request ended. It returns the error to
// send the client, or nil when the client is gone and nobody is to be
// answered.
func (x *Exchange) UpstreamFailed(err error, timedOut, clientGone bool) *openai.Error {
	switch {
	case timedOut:
		err = ErrFirstByteTimeout
	case clientGone:
		err = context.Canceled
	}
	e, code := statusFor(err, x.req.Model)
	x.status, x.errorCode = e.Status, code
	if e.Status == StatusClientClosed {
		return nil
	}
	x.t.log.Warn("upstream request failed", "request_id", x.id, "endpoint", x.endpointName(), "attempts", x.attempts, "err", err)
	return e
}

func (x *Exchange) endpointName() string {
	if x.served != nil {
		return x.served.Name()
	}
	if x.dec == nil || x.dec.Endpoint == nil {
		return ""
	}
	return x.dec.Endpoint.Name()
}
