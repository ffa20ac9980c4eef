package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/tracing"
)

// tracedOptions returns Options recording spans into a SpanRecorder.
func tracedOptions(t *testing.T) (Options, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return Options{Tracer: tp.Tracer("test"), Propagator: propagation.TraceContext{}}, rec
}

// attr returns span s's attribute key.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func spansNamed(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func TestTracingSpanTreeAndRetry(t *testing.T) {
	good := newBackend(t, sse)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	o, rec := tracedOptions(t)
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	o.MaxRetries = 2
	h := setup(t, o, []string{dead, good.addr()}, []int{0, 5}) // the dead one is preferred

	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	const clientParent = "00f067aa0ba902b7"
	const prompt = "secret prompt text"
	r := do(t, h, "/v1/chat/completions",
		`{"model":"alias","stream":true,"max_tokens":7,"messages":[{"role":"user","content":"`+prompt+`"}]}`,
		map[string]string{"traceparent": "00-" + clientTrace + "-" + clientParent + "-01", "tracestate": "vendor=1"})
	if r.Code != http.StatusOK {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}

	servers := spansNamed(rec, "POST /v1/chat/completions")
	if len(servers) != 1 {
		t.Fatalf("%d server spans, want 1", len(servers))
	}
	srv := servers[0]
	if srv.SpanKind() != trace.SpanKindServer || srv.SpanContext().TraceID().String() != clientTrace || srv.Parent().SpanID().String() != clientParent {
		t.Errorf("server span kind %v trace %s parent %s: want a server span continuing %s/%s",
			srv.SpanKind(), srv.SpanContext().TraceID(), srv.Parent().SpanID(), clientTrace, clientParent)
	}
	for _, name := range []string{tracing.SpanParse, tracing.SpanRoute} {
		if s := spansNamed(rec, name); len(s) != 1 || s[0].Parent().SpanID() != srv.SpanContext().SpanID() {
			t.Errorf("%s: %d spans, want one child of the server span", name, len(s))
		}
	}
	ups := spansNamed(rec, tracing.SpanUpstream)
	if len(ups) != 2 {
		t.Fatalf("%d attempt spans, want 2 (dead endpoint, then the good one)", len(ups))
	}
	for i, u := range ups {
		if u.Parent().SpanID() != srv.SpanContext().SpanID() || u.SpanKind() != trace.SpanKindClient {
			t.Errorf("attempt %d is not a client span under the server span", i+1)
		}
		if n, _ := attr(u, tracing.Attempt); n.AsInt64() != int64(i+1) {
			t.Errorf("attempt span %d has infergate.attempt %d", i+1, n.AsInt64())
		}
	}
	if ups[0].Status().Code != codes.Error {
		t.Errorf("failed attempt's status = %v, want Error", ups[0].Status())
	}
	if v, _ := attr(ups[1], tracing.RetryReason); v.AsString() != "connect error" {
		t.Errorf("retry reason = %q, want connect error", v.AsString())
	}
	// The replica got the second attempt's span as its parent, and the
	// client's tracestate.
	want := "00-" + clientTrace + "-" + ups[1].SpanContext().SpanID().String() + "-01"
	if got := good.hdr.Get("traceparent"); got != want {
		t.Errorf("upstream traceparent = %q, want %q", got, want)
	}
	if got := good.hdr.Get("tracestate"); got != "vendor=1" {
		t.Errorf("upstream tracestate = %q, want vendor=1", got)
	}
	if v, _ := attr(srv, "gen_ai.usage.output_tokens"); v.AsInt64() != 3 {
		t.Errorf("gen_ai.usage.output_tokens = %d, want 3", v.AsInt64())
	}
	if v, _ := attr(srv, "gen_ai.request.model"); v.AsString() != "alias" {
		t.Errorf("gen_ai.request.model = %q, want alias", v.AsString())
	}
	events := map[string]bool{}
	for _, e := range srv.Events() {
		events[e.Name] = true
	}
	if !events[tracing.EventFirstByte] || !events[tracing.EventEndOfStream] {
		t.Errorf("server span events %v, want first byte and end of stream", events)
	}
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), prompt) {
				t.Errorf("span %s attribute %s holds the prompt", s.Name(), kv.Key)
			}
		}
	}
	if !strings.Contains(logs.String(), "trace_id="+clientTrace) {
		t.Errorf("access log lacks trace_id=%s:\n%s", clientTrace, logs.String())
	}
}

func TestTracingRecordsRejection(t *testing.T) {
	be := newBackend(t, okJSON)
	o, rec := tracedOptions(t)
	h := setup(t, o, []string{be.addr()}, []int{50})
	r := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, map[string]string{exchange.HeaderObjective: "batch"})
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", r.Code)
	}
	route := spansNamed(rec, tracing.SpanRoute)
	if len(route) != 1 {
		t.Fatalf("%d route spans", len(route))
	}
	if v, _ := attr(route[0], tracing.Admission); v.AsString() != exchange.DroppedSaturated {
		t.Errorf("admission = %q, want %s", v.AsString(), exchange.DroppedSaturated)
	}
	srv := spansNamed(rec, "POST /v1/completions")[0]
	if v, _ := attr(srv, "http.response.status_code"); v.AsInt64() != 429 || srv.Status().Code != codes.Error {
		t.Errorf("server span status code %d (%v), want 429 and Error", v.AsInt64(), srv.Status())
	}
}

func TestTracingOffLeavesTraceparent(t *testing.T) {
	be := newBackend(t, okJSON)
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if r := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, map[string]string{"traceparent": tp}); r.Code != 200 {
		t.Fatalf("status %d", r.Code)
	}
	if got := be.hdr.Get("traceparent"); got != tp {
		t.Errorf("upstream traceparent = %q, want the client's unchanged", got)
	}
}

// TestTracingResponseModel checks gen_ai.response.model on the server span
// and the served attempt: the model the replica answered with, read from a
// non-streaming body and from a stream's chunks.
func TestTracingResponseModel(t *testing.T) {
	jsonWithModel := func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"lora-a-served","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}
	sseWithModel := func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"lora-a-streamed\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d\"}}]}\n\n", i)
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}
	for _, tc := range []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, []byte)
		stream  bool
		want    string
	}{
		{name: "json", handler: jsonWithModel, want: "lora-a-served"},
		{name: "stream", handler: sseWithModel, stream: true, want: "lora-a-streamed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newBackend(t, tc.handler)
			o, rec := tracedOptions(t)
			h := setup(t, o, []string{be.addr()}, []int{0})
			body := fmt.Sprintf(`{"model":"alias","stream":%t,"messages":[{"role":"user","content":"x"}]}`, tc.stream)
			if r := do(t, h, "/v1/chat/completions", body, nil); r.Code != http.StatusOK {
				t.Fatalf("status %d: %s", r.Code, r.Body)
			}
			srv := spansNamed(rec, "POST /v1/chat/completions")
			ups := spansNamed(rec, tracing.SpanUpstream)
			if len(srv) != 1 || len(ups) != 1 {
				t.Fatalf("%d server and %d attempt spans, want 1 each", len(srv), len(ups))
			}
			for _, s := range []sdktrace.ReadOnlySpan{srv[0], ups[0]} {
				if v, ok := attr(s, "gen_ai.response.model"); !ok || v.AsString() != tc.want {
					t.Errorf("%s: gen_ai.response.model = %q (set %v), want %q", s.Name(), v.AsString(), ok, tc.want)
				}
			}
		})
	}
}
