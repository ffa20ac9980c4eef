package proxy

import (
	"io"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/tracing"
)

// header returns the backend's last request header key, read under its lock.
func (b *backend) header(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hdr.Get(key)
}

// hedgeSpans checks that the request left two sibling attempt spans under
// its server span and returns them as (hedged attempt, hedge).
func hedgeSpans(t *testing.T, spans []sdktrace.ReadOnlySpan) (first, hedge sdktrace.ReadOnlySpan) {
	t.Helper()
	var srv sdktrace.ReadOnlySpan
	var ups []sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.Name() {
		case "POST /v1/completions":
			srv = s
		case tracing.SpanUpstream:
			ups = append(ups, s)
		}
	}
	if srv == nil {
		t.Fatal("no server span")
	}
	if len(ups) != 2 {
		t.Fatalf("%d attempt spans, want 2 (the attempt and its hedge)", len(ups))
	}
	for _, u := range ups {
		if u.Parent().SpanID() != srv.SpanContext().SpanID() || u.SpanKind() != trace.SpanKindClient {
			t.Errorf("attempt span %v is not a client span under the server span (siblings)", u.Attributes())
		}
		if v, ok := attr(u, tracing.Hedge); ok && v.AsBool() {
			hedge = u
		} else {
			first = u
		}
	}
	if hedge == nil || first == nil {
		t.Fatalf("want one attempt span with infergate.hedge=true and one without")
	}
	if v, _ := attr(first, tracing.Attempt); v.AsInt64() != 1 {
		t.Errorf("hedged attempt's infergate.attempt = %d, want 1", v.AsInt64())
	}
	if v, _ := attr(first, tracing.Endpoint); v.AsString() != "slow" {
		t.Errorf("hedged attempt's endpoint = %q, want slow", v.AsString())
	}
	if v, _ := attr(hedge, tracing.Attempt); v.AsInt64() != 2 {
		t.Errorf("hedge's infergate.attempt = %d, want 2", v.AsInt64())
	}
	if v, _ := attr(hedge, tracing.Endpoint); v.AsString() != "fast" {
		t.Errorf("hedge's endpoint = %q, want fast", v.AsString())
	}
	if v, _ := attr(hedge, "http.request.resend_count"); v.AsInt64() != 1 {
		t.Errorf("hedge's http.request.resend_count = %d, want 1", v.AsInt64())
	}
	if _, ok := attr(hedge, tracing.RetryReason); ok {
		t.Error("the hedge has a retry reason: it retries nothing")
	}
	return first, hedge
}

// TestTracingHedgeWins: the hedge answers first. It has its own attempt
// span, whose traceparent its endpoint received; the hedged attempt's span
// ends superseded (cancelled, not an error) and the response events go on
// the hedge's span.
func TestTracingHedgeWins(t *testing.T) {
	o, rec := tracedOptions(t)
	o.HedgeAfter, o.MaxRetries, o.FirstByteTimeout = 50*time.Millisecond, 1, time.Minute
	h, _, slow, fast, release, slowDone := hedgeFixture(t, o)
	defer close(release)
	if r := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil); r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	if !<-slowDone {
		t.Fatal("the slower copy was not cancelled")
	}
	first, hedge := hedgeSpans(t, rec.Ended())
	if v, _ := attr(first, tracing.Superseded); !v.AsBool() || first.Status().Code == codes.Error {
		t.Errorf("hedged attempt: superseded %v, status %v; want superseded and no error", v.AsBool(), first.Status())
	}
	if v, _ := attr(hedge, "http.response.status_code"); v.AsInt64() != 200 {
		t.Errorf("hedge's http.response.status_code = %d, want 200", v.AsInt64())
	}
	if _, ok := attr(hedge, tracing.Superseded); ok || hedge.Status().Code == codes.Error {
		t.Errorf("the hedge that answered is marked superseded or failed (%v)", hedge.Status())
	}
	events := map[string]bool{}
	for _, e := range hedge.Events() {
		events[e.Name] = true
	}
	if !events[tracing.EventFirstByte] || !events[tracing.EventEndOfStream] {
		t.Errorf("hedge span's events %v, want first byte and end of stream", events)
	}
	tid := hedge.SpanContext().TraceID().String()
	if got, want := fast.header("traceparent"), "00-"+tid+"-"+hedge.SpanContext().SpanID().String()+"-01"; got != want {
		t.Errorf("hedge endpoint's traceparent = %q, want the hedge span's %q", got, want)
	}
	if got, want := slow.header("traceparent"), "00-"+tid+"-"+first.SpanContext().SpanID().String()+"-01"; got != want {
		t.Errorf("hedged endpoint's traceparent = %q, want the first attempt span's %q", got, want)
	}
}

// TestTracingHedgeLoses: the hedged attempt answers first; the hedge's
// span ends superseded and the first attempt's carries the answer.
func TestTracingHedgeLoses(t *testing.T) {
	o, rec := tracedOptions(t)
	o.HedgeAfter, o.MaxRetries, o.FirstByteTimeout = 50*time.Millisecond, 1, time.Minute
	release := make(chan struct{})
	hedgeCancelled := make(chan bool, 1)
	slow := newBackend(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release: // the hedge arrived
			okJSON(w, r, body)
		case <-r.Context().Done():
		}
	})
	fast := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		close(release) // let the hedged attempt answer, and never answer
		<-r.Context().Done()
		hedgeCancelled <- true
	})
	h, _ := hedgeHandler(t, o, slow, fast)
	if r := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil); r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	<-hedgeCancelled
	first, hedge := hedgeSpans(t, rec.Ended())
	if v, _ := attr(hedge, tracing.Superseded); !v.AsBool() || hedge.Status().Code == codes.Error {
		t.Errorf("hedge: superseded %v, status %v; want superseded and no error", v.AsBool(), hedge.Status())
	}
	if v, _ := attr(first, "http.response.status_code"); v.AsInt64() != 200 {
		t.Errorf("first attempt's http.response.status_code = %d, want 200", v.AsInt64())
	}
	if _, ok := attr(first, tracing.Superseded); ok {
		t.Error("the attempt that answered is marked superseded")
	}
	if got, want := fast.header("traceparent"), hedge.SpanContext().SpanID().String(); len(got) != 55 || got[36:52] != want {
		t.Errorf("hedge endpoint's traceparent = %q, want parent %s (the hedge span)", got, want)
	}
}

// TestTracingHedgeLegFails: both legs answer 503 and the retry budget is
// spent. The leg answering first is dropped as a failed attempt (Error,
// error.type 503); the other's answer goes to the client on its span.
func TestTracingHedgeLegFails(t *testing.T) {
	o, rec := tracedOptions(t)
	o.HedgeAfter, o.MaxRetries, o.FirstByteTimeout = 50*time.Millisecond, 1, time.Minute
	release := make(chan struct{})
	unavailable := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"message":"busy","type":"server_error","param":null,"code":null}}`)
	}
	slow := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-release: // the hedge arrived
			unavailable(w)
		case <-r.Context().Done():
		}
	})
	fast := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		close(release)
		unavailable(w)
	})
	h, _ := hedgeHandler(t, o, slow, fast)
	if r := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil); r.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want the replicas' 503", r.Code)
	}
	first, hedge := hedgeSpans(t, rec.Ended())
	var failed int
	for _, s := range []sdktrace.ReadOnlySpan{first, hedge} {
		if _, ok := attr(s, tracing.Superseded); ok {
			t.Errorf("%v: marked superseded, but it answered on its own", s.Attributes())
		}
		if v, _ := attr(s, "http.response.status_code"); v.AsInt64() != 503 {
			t.Errorf("attempt %v: http.response.status_code %d, want 503", s.Attributes(), v.AsInt64())
		}
		if s.Status().Code == codes.Error {
			failed++
			if v, _ := attr(s, "error.type"); v.AsString() != "503" {
				t.Errorf("dropped leg's error.type = %q, want 503", v.AsString())
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d attempt spans failed, want 1 (the dropped leg; the other's answer went to the client)", failed)
	}
}
