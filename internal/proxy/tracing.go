package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/tracing"
)

// reqTrace holds the spans of one traced request. A call's trace is nil when
// tracing is off, and then none of this runs.
type reqTrace struct {
	tracer  trace.Tracer
	prop    propagation.TextMapPropagator
	server  trace.Span
	child   trace.Span // the open parse or route span, nil when none
	attempt trace.Span // the open upstream attempt span, nil when none
	hedge   trace.Span // the open span of a hedged copy, nil when none
	reason  string     // why the previous attempt was abandoned
	first   bool       // the first response byte was passed on
	id      string     // the trace ID, 32 hex digits
	rec     bool       // the trace is sampled: spans record attributes
}

// maxSpanValueBytes bounds a client-supplied string in a span attribute.
const maxSpanValueBytes = 256

// clipValue shortens a client-supplied string for a span attribute.
func clipValue(s string) string {
	if len(s) <= maxSpanValueBytes {
		return s
	}
	n := maxSpanValueBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// operationName is the gen_ai.operation.name of an endpoint kind.
func operationName(kind openai.Kind) attribute.KeyValue {
	switch kind {
	case openai.KindChatCompletions:
		return semconv.GenAIOperationNameChat
	case openai.KindEmbeddings:
		return semconv.GenAIOperationNameEmbeddings
	default:
		return semconv.GenAIOperationNameTextCompletion
	}
}

// startTrace starts the request's server span, continuing the client's W3C
// traceparent/tracestate, and makes c.in carry it.
func (c *call) startTrace(kind openai.Kind) {
	h := c.h
	t := &reqTrace{tracer: h.tracer, prop: h.prop}
	ctx := t.prop.Extract(c.in.Context(), propagation.HeaderCarrier(c.in.Header))
	ctx, t.server = t.tracer.Start(ctx, c.in.Method+" "+c.in.URL.Path,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodPost,
			semconv.URLPath(c.in.URL.Path),
			semconv.HTTPRoute(c.in.URL.Path),
			operationName(kind),
			semconv.GenAIProviderNameOpenAI,
			tracing.RequestID.String(c.x.ID()),
		))
	c.in = c.in.WithContext(ctx)
	t.id = t.server.SpanContext().TraceID().String()
	t.rec = t.server.IsRecording()
	if t.rec {
		c.x.CaptureResponseModel()
	}
	c.x.SetTraceID(t.id)
	c.trace = t
}

// traceID returns the request's trace ID, "" when tracing is off.
func (c *call) traceID() string {
	if c.trace == nil {
		return ""
	}
	return c.trace.id
}

// startChild starts the parse or route span.
func (t *reqTrace) startChild(ctx context.Context, name string) {
	_, t.child = t.tracer.Start(ctx, name)
}

// endParse ends the parse span with what the body said: never its text.
func (t *reqTrace) endParse(req openai.Request, bodyBytes int, err error) {
	if err == nil && t.rec {
		t.server.SetAttributes(semconv.GenAIRequestModel(clipValue(req.Model)), tracing.Stream.Bool(req.Stream))
		if req.MaxTokens > 0 {
			t.server.SetAttributes(semconv.GenAIRequestMaxTokens(req.MaxTokens))
		}
		t.child.SetAttributes(tracing.RequestBytes.Int(bodyBytes))
	}
	t.endChild(err)
}

// queueWait records how long the request waited in flow control, when it
// did.
func (t *reqTrace) queueWait(d time.Duration) {
	if t.rec && t.child != nil && d > 0 {
		t.child.SetAttributes(tracing.QueueWaitMillis.Int64(d.Milliseconds()))
	}
}

// endRoute records the router's decision on the route span and ends it when
// the request was admitted; a rejection is ended by [reqTrace.failed] and
// [reqTrace.endChild] from the handler's fail.
func (t *reqTrace) endRoute(dec *router.Decision, err error) {
	if dec != nil && t.rec {
		attrs := []attribute.KeyValue{tracing.TargetModel.String(clipValue(dec.TargetModel)), tracing.Priority.Int(dec.Priority)}
		if dec.Pool != nil {
			attrs = append(attrs, tracing.Pool.String(dec.Pool.Name()))
		}
		if dec.Endpoint != nil {
			r := dec.Result
			attrs = append(attrs,
				tracing.Endpoint.String(dec.Endpoint.Name()),
				tracing.Candidates.Int(r.Candidates),
				tracing.ScoreTotal.Float64(r.Total),
				tracing.PrefixBlocksMatched.Int(r.PrefixMatchBlocks),
				tracing.PrefixBlocksTotal.Int(r.PrefixTotalBlocks),
			)
			for i, name := range scheduler.ScorerNames {
				attrs = append(attrs, attribute.Float64(tracing.ScorePrefix+name, r.Scores[i]))
			}
		}
		t.child.SetAttributes(attrs...)
		t.server.SetAttributes(tracing.TargetModel.String(clipValue(dec.TargetModel)))
	}
	if err == nil {
		if t.rec {
			t.child.SetAttributes(tracing.Admission.String("admitted"))
		}
		t.endChild(nil)
	}
}

// endChild ends the open parse or route span, marking an error (its message
// is infergate's own, the client's strings clipped).
func (t *reqTrace) endChild(err error) {
	if t.child == nil {
		return
	}
	if err != nil {
		t.child.SetStatus(codes.Error, clipValue(err.Error()))
	}
	t.child.End()
	t.child = nil
}

// failed records a rejection before forwarding on the open child span: the
// status and error code the client got, and the dropped reason of an
// admission rejection.
func (t *reqTrace) failed(status int, code, dropped string) {
	if t.child == nil || !t.rec {
		return
	}
	if dropped != "" {
		t.child.SetAttributes(tracing.Admission.String(dropped))
	}
	t.child.SetAttributes(semconv.HTTPResponseStatusCode(status), tracing.ErrorCode.String(code))
}

// startAttempt starts the client span of attempt n on ep and injects its
// traceparent (and the client's tracestate) into req, whose header map it
// replaces with a copy on retries (retarget shares the map).
func (t *reqTrace) startAttempt(ctx context.Context, req *http.Request, ep *pool.Endpoint, n int) {
	t.attempt = t.attemptSpan(ctx, req, ep, n, false)
}

// startHedge starts the client span of the hedged copy (attempt n on ep),
// a sibling of the attempt it hedges, and injects its traceparent into req,
// whose header map (shared with the hedged attempt) it replaces with a copy.
// [reqTrace.settleHedge] ends one of the two spans.
func (t *reqTrace) startHedge(ctx context.Context, req *http.Request, ep *pool.Endpoint, n int) {
	t.hedge = t.attemptSpan(ctx, req, ep, n, true)
}

// attemptSpan starts an attempt's client span and injects its context into
// req (into a copy of req's header map unless this is the first attempt).
func (t *reqTrace) attemptSpan(ctx context.Context, req *http.Request, ep *pool.Endpoint, n int, hedge bool) trace.Span {
	var span trace.Span
	if !t.rec {
		// Not sampled: the upstream still gets the (unsampled) context.
		ctx, span = t.tracer.Start(ctx, tracing.SpanUpstream)
		t.inject(ctx, req, n > 1 || hedge)
		return span
	}
	host, port, _ := net.SplitHostPort(ep.Address())
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(req.Method),
		semconv.ServerAddress(host),
		tracing.Endpoint.String(ep.Name()),
		tracing.Attempt.Int(n),
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	switch {
	case hedge:
		attrs = append(attrs, semconv.HTTPRequestResendCount(n-1), tracing.Hedge.Bool(true))
	case n > 1:
		attrs = append(attrs, semconv.HTTPRequestResendCount(n-1), tracing.RetryReason.String(t.reason))
	}
	ctx, span = t.tracer.Start(ctx, tracing.SpanUpstream, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	t.inject(ctx, req, n > 1 || hedge)
	return span
}

// inject sets req's traceparent (and tracestate) to ctx's span context,
// in a copy of req's header map when clone is set.
func (t *reqTrace) inject(ctx context.Context, req *http.Request, clone bool) {
	if clone {
		req.Header = req.Header.Clone()
	}
	req.Header.Del("Traceparent")
	req.Header.Del("Tracestate")
	t.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
}

// settleHedge ends the span of the hedged leg whose answer is not used and
// makes the other's the attempt span: keptHedge is set when the hedge's
// answer is kept. lost and lostErr are the dropped leg's outcome;
// superseded reports that it was cancelled because the other leg answered
// first (otherwise it failed on its own, recorded as
// [reqTrace.endAttempt] records a failed attempt).
func (t *reqTrace) settleHedge(keptHedge bool, lost *http.Response, lostErr error, superseded bool) {
	if t.hedge == nil {
		return
	}
	loser := t.hedge
	if keptHedge {
		loser, t.attempt = t.attempt, t.hedge
	}
	t.hedge = nil
	if superseded {
		if t.rec {
			loser.SetAttributes(tracing.Superseded.Bool(true))
		}
		loser.End()
		return
	}
	t.failSpan(loser, lost, lostErr)
}

// endAttempt ends a failed attempt: err is the transport error, or resp the
// 502/503/504 answer that makes it retryable; it remembers the reason for
// the next attempt's span.
func (t *reqTrace) endAttempt(resp *http.Response, err error) {
	if t.attempt == nil {
		return
	}
	t.failSpan(t.attempt, resp, err)
	t.attempt = nil
}

// failSpan ends the span of a failed attempt (see [reqTrace.endAttempt]).
func (t *reqTrace) failSpan(span trace.Span, resp *http.Response, err error) {
	switch {
	case err != nil:
		t.reason = "transport error"
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			t.reason = "connect error"
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(t.reason))
		span.SetStatus(codes.Error, err.Error())
	case resp != nil:
		t.reason = "status " + strconv.Itoa(resp.StatusCode)
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode), semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, t.reason)
	}
	span.End()
}

// served records the answer of the attempt whose response is passed on; its
// span stays open until the body ends.
func (t *reqTrace) served(status int) {
	if t.attempt != nil {
		t.attempt.SetAttributes(semconv.HTTPResponseStatusCode(status))
	}
}

// firstByte marks the first response byte passed on to the client.
func (t *reqTrace) firstByte() {
	if t.first {
		return
	}
	t.first = true
	t.server.AddEvent(tracing.EventFirstByte)
	if t.attempt != nil {
		t.attempt.AddEvent(tracing.EventFirstByte)
	}
}

// endOfStream marks the end of the upstream body.
func (t *reqTrace) endOfStream() {
	t.server.AddEvent(tracing.EventEndOfStream)
	if t.attempt != nil {
		t.attempt.AddEvent(tracing.EventEndOfStream)
	}
}

// end closes every open span once the exchange has ended, with the status
// and error code the client saw and the token counts.
func (c *call) endTrace() {
	t := c.trace
	t.endChild(nil)
	var model attribute.KeyValue
	if t.rec {
		if m := c.x.ResponseModel(); m != "" {
			model = semconv.GenAIResponseModel(clipValue(m))
		}
	}
	if t.attempt != nil {
		if model.Valid() {
			t.attempt.SetAttributes(model)
		}
		t.attempt.End()
		t.attempt = nil
	}
	if !t.rec {
		t.server.End()
		return
	}
	status, code := c.x.Status()
	t.server.SetAttributes(semconv.HTTPResponseStatusCode(status), tracing.ResponseBytes.Int(c.x.ResponseBytes()))
	if model.Valid() {
		t.server.SetAttributes(model)
	}
	if u, ok := c.x.Usage(); ok {
		t.server.SetAttributes(semconv.GenAIUsageInputTokens(u.PromptTokens), semconv.GenAIUsageOutputTokens(u.CompletionTokens))
	}
	if code != "" {
		t.server.SetAttributes(semconv.ErrorTypeKey.String(code), tracing.ErrorCode.String(code))
		t.server.SetStatus(codes.Error, code)
	}
	t.server.End()
}
