package extproc

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/infergate/infergate/internal/envoystandin"
)

// TestTraceparentThroughEnvoyStandIn runs the traced picker behind the Go
// Envoy stand-in: the replica receives a traceparent naming the picker's
// stream span, in the client's trace, set by the picker's header mutation.
func TestTraceparentThroughEnvoyStandIn(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(replica.Close)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	p := startPicker(t, Options{Tracer: tp.Tracer("test"), Propagator: propagation.TraceContext{}},
		poolDef{name: "test", addrs: []string{strings.TrimPrefix(replica.URL, "http://")}, models: []string{simModel}})
	s, err := envoystandin.New(envoystandin.Config{ExtProcAddr: p.addr, Plaintext: true, MessageTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/v1/chat/completions", strings.NewReader(string(chatBody(simModel, 20, false))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var streamSpan string
	eventually(t, "the stream span to end", func() bool {
		for _, sp := range rec.Ended() {
			if sp.Name() == SpanStream {
				streamSpan = sp.SpanContext().SpanID().String()
				return true
			}
		}
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	if want := "00-" + traceID + "-" + streamSpan + "-01"; got.Get("traceparent") != want {
		t.Errorf("replica's traceparent = %q, want %q (the picker's stream span)", got.Get("traceparent"), want)
	}
}
