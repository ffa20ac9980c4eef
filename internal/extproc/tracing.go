package extproc

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/tracing"
)

// Span names of the picker.
const (
	// SpanStream is the server span of one ext_proc stream (one HTTP
	// request), continuing the traceparent Envoy passed in the headers.
	SpanStream = "infergate.extproc.stream"
	// SpanDecision covers parsing the body, admission and the pick.
	SpanDecision = "infergate.extproc.decision"
	// SpanResponse covers the response's accounting, from its headers to
	// the end of its body.
	SpanResponse = "infergate.extproc.response"
)

// streamTrace holds the spans of one traced stream; a stream's trace is nil
// when tracing is off.
type streamTrace struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	ctx      context.Context // the stream span's context
	stream   trace.Span
	decision trace.Span // open while deciding
	response trace.Span // open while the response is accounted
	id       string
}

// headerCarrier reads trace context from Envoy's request headers.
type headerCarrier struct{ hs headers }

// Get returns header key.
func (c headerCarrier) Get(key string) string { return c.hs.get(key) }

// Set does nothing: the picker writes headers through header mutations.
func (headerCarrier) Set(string, string) {}

// Keys returns nothing (the propagator reads known keys).
func (headerCarrier) Keys() []string { return nil }

// startTrace starts the stream's server span from Envoy's headers.
func (st *stream) startTrace(hs headers, path string) {
	s := st.s
	t := &streamTrace{tracer: s.tracer, prop: s.prop}
	ctx := t.prop.Extract(context.Background(), headerCarrier{hs})
	t.ctx, t.stream = t.tracer.Start(ctx, SpanStream, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodPost,
			semconv.URLPath(clip(path)),
			tracing.RequestID.String(st.id),
		))
	t.id = t.stream.SpanContext().TraceID().String()
	st.x.SetTraceID(t.id)
	if t.stream.IsRecording() {
		st.x.CaptureResponseModel()
	}
	st.trace = t
}

// startDecision starts the decision span.
func (t *streamTrace) startDecision() {
	_, t.decision = t.tracer.Start(t.ctx, SpanDecision)
}

// endDecision ends the decision span with the request and the router's
// queueWait records how long the request waited in flow control, when it
// did.
func (t *streamTrace) queueWait(d time.Duration) {
	if t.decision != nil && d > 0 {
		t.decision.SetAttributes(tracing.QueueWaitMillis.Int64(d.Milliseconds()))
	}
}

// decision (never the prompt).
func (t *streamTrace) endDecision(req openai.Request, dec *router.Decision, err error) {
	if t.decision == nil {
		return
	}
	if req.Model != "" {
		t.stream.SetAttributes(semconv.GenAIRequestModel(clip(req.Model)), tracing.Stream.Bool(req.Stream))
	}
	if dec != nil {
		attrs := []attribute.KeyValue{tracing.TargetModel.String(clip(dec.TargetModel)), tracing.Priority.Int(dec.Priority)}
		if dec.Pool != nil {
			attrs = append(attrs, tracing.Pool.String(dec.Pool.Name()))
		}
		if dec.Endpoint != nil {
			attrs = append(attrs,
				tracing.Endpoint.String(dec.Endpoint.Name()),
				tracing.Candidates.Int(dec.Result.Candidates),
				tracing.ScoreTotal.Float64(dec.Result.Total),
				tracing.PrefixBlocksMatched.Int(dec.Result.PrefixMatchBlocks),
				tracing.PrefixBlocksTotal.Int(dec.Result.PrefixTotalBlocks),
			)
		}
		t.decision.SetAttributes(attrs...)
	}
	if err != nil {
		t.decision.SetStatus(codes.Error, clip(err.Error()))
	} else {
		t.decision.SetAttributes(tracing.Admission.String("admitted"))
	}
	t.decision.End()
	t.decision = nil
}

// traceparent returns the header mutation that hands the stream span's
// context to the upstream request.
func (t *streamTrace) traceparent() []*corev3.HeaderValueOption {
	carrier := propagation.MapCarrier{}
	t.prop.Inject(t.ctx, carrier)
	var out []*corev3.HeaderValueOption
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := carrier[k]; v != "" {
			out = append(out, setHeader(k, v))
		}
	}
	return out
}

// startResponse starts the response-accounting span.
func (t *streamTrace) startResponse(status int) {
	_, t.response = t.tracer.Start(t.ctx, SpanResponse, trace.WithAttributes(semconv.HTTPResponseStatusCode(status)))
}

// end closes the open spans once the exchange has ended, with the status
// the client saw, the token counts and the model the response named.
func (st *stream) endTrace(status int, code string, usage openai.Usage, usageOK bool) {
	t := st.trace
	if t.decision != nil {
		t.decision.End()
	}
	if m := st.x.ResponseModel(); m != "" {
		model := semconv.GenAIResponseModel(clip(m))
		t.stream.SetAttributes(model)
		if t.response != nil {
			t.response.SetAttributes(model)
		}
	}
	if t.response != nil {
		t.response.End()
	}
	t.stream.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if usageOK {
		t.stream.SetAttributes(semconv.GenAIUsageInputTokens(usage.PromptTokens), semconv.GenAIUsageOutputTokens(usage.CompletionTokens))
	}
	if code != "" {
		t.stream.SetAttributes(semconv.ErrorTypeKey.String(code), tracing.ErrorCode.String(code))
		t.stream.SetStatus(codes.Error, code)
	}
	t.stream.End()
	st.trace = nil
}
