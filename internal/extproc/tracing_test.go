package extproc

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestPickerSpansContinueEnvoysTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	a := startSim(t, "a")
	p := startPicker(t, Options{Tracer: tp.Tracer("test"), Propagator: propagation.TraceContext{}},
		poolDef{name: "test", addrs: []string{a}, models: []string{simModel}})

	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	d, _, _ := roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: chatBody(simModel, 50, true),
		headers: [][2]string{{"traceparent", "00-" + traceID + "-" + parent + "-01"}}}, 1<<20, testTimeout)

	var stream trace.SpanContext
	eventually(t, "the stream span to end", func() bool {
		for _, s := range rec.Ended() {
			if s.Name() == SpanStream {
				stream = s.SpanContext()
				return true
			}
		}
		return false
	})
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	st := byName[SpanStream]
	if st.SpanContext().TraceID().String() != traceID || st.Parent().SpanID().String() != parent || st.SpanKind() != trace.SpanKindServer {
		t.Errorf("stream span: trace %s parent %s kind %v, want a server span continuing %s/%s",
			st.SpanContext().TraceID(), st.Parent().SpanID(), st.SpanKind(), traceID, parent)
	}
	for _, name := range []string{SpanDecision, SpanResponse} {
		s, ok := byName[name]
		if !ok || s.Parent().SpanID() != stream.SpanID() {
			t.Errorf("%s: missing or not a child of the stream span", name)
		}
	}
	for _, name := range []string{SpanStream, SpanResponse} {
		got := ""
		for _, kv := range byName[name].Attributes() {
			if kv.Key == "gen_ai.response.model" {
				got = kv.Value.AsString()
			}
		}
		if got != simModel {
			t.Errorf("%s: gen_ai.response.model = %q, want %q (the model the replica answered with)", name, got, simModel)
		}
	}
	want := "00-" + traceID + "-" + stream.SpanID().String() + "-01"
	if got := d.set["traceparent"]; got != want {
		t.Errorf("traceparent header mutation = %q, want %q", got, want)
	}
}
