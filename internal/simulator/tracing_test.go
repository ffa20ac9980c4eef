package simulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestContinuesTheCallersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := DefaultConfig()
	cfg.Name = "sim-t"
	cfg.Tracer, cfg.Propagator = tp.Tracer("test"), propagation.TraceContext{}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"model":"`+cfg.Model+`","prompt":"hi","max_tokens":2}`))
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.Name() != SpanRequest || sp.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want %q server", sp.Name(), sp.SpanKind(), SpanRequest)
	}
	if sp.SpanContext().TraceID().String() != traceID || sp.Parent().SpanID().String() != parent {
		t.Errorf("span trace %s parent %s, want %s %s", sp.SpanContext().TraceID(), sp.Parent().SpanID(), traceID, parent)
	}
}
