package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkProxyTracing measures what tracing adds per request on the
// native proxy path, as [BenchmarkProxy] (streamed answer): off, on at 100 %
// sampling and on at 1 % (parent-based ratio sampling; the client sends no
// traceparent, so the gateway decides). Sampled spans go through the SDK's
// batching processor to an exporter that drops them, so the figure is the
// gateway's cost without the network. Run:
// go test -run '^$' -bench ProxyTracing -benchmem ./internal/proxy
func BenchmarkProxyTracing(b *testing.B) {
	const body = `{"model":"base","stream":true,"messages":[{"role":"user","content":"Say hello to the benchmark, please."}],"max_tokens":8}`
	cases := []struct {
		name    string
		sampler sdktrace.Sampler // nil: tracing off
	}{
		{name: "off"},
		{name: "on-100pct", sampler: sdktrace.ParentBased(sdktrace.AlwaysSample())},
		{name: "on-1pct", sampler: sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var o Options
			if tc.sampler != nil {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				o.Tracer, o.Propagator = tp.Tracer("bench"), propagation.TraceContext{}
			}
			be := newBackend(b, sse)
			h := setup(b, o, []string{be.addr()}, []int{0})
			front := httptest.NewServer(h)
			b.Cleanup(front.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			url := front.URL + "/v1/chat/completions"
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(url, "application/json", strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
