package extproc

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/infergate/infergate/internal/telemetry"
)

// decisionHistogram returns infergate_extproc_decision_duration_seconds as
// reg holds it.
func decisionHistogram(t *testing.T, reg *prometheus.Registry) *dto.Histogram {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "infergate_extproc_decision_duration_seconds" {
			return f.GetMetric()[0].GetHistogram()
		}
	}
	t.Fatal("infergate_extproc_decision_duration_seconds not registered")
	return nil
}

// TestDecisionLatencyObserved: over real gRPC streams, every decision (a
// body in one message, in several, ending with trailers) adds one
// observation to the gateway's histogram, within the real clock's
// plausible range; rejections and /v1/models add none.
func TestDecisionLatencyObserved(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := telemetry.NewMetrics(reg, telemetry.Options{})
	p := startPicker(t, Options{Decisions: m}, poolDef{name: "test", addrs: []string{epA, epB}, models: []string{"base"}})
	c := dialPicker(t, p.addr)
	decided := []httpReq{
		{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)},
		{path: "/v1/chat/completions", body: chatBody("base", 40_000, true), chunk: 4096},
		{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"y"}`), trailers: true},
	}
	for _, r := range decided {
		s := openStream(t, c, testTimeout)
		d, err := s.request(r)
		if err != nil || d.immediate != nil || d.set[HeaderDestination] == "" {
			t.Fatalf("%s: %v, immediate %v", r.path, err, d.immediate)
		}
		s.finish()
	}
	for _, r := range []httpReq{
		{path: "/v1/completions", body: []byte(`{"model":"nope","prompt":"x"}`)},
		{path: "/v1/completions", body: []byte(`{"model":`)},
		{method: http.MethodGet, path: "/v1/models"},
	} {
		s := openStream(t, c, testTimeout)
		d, err := s.request(r)
		if err != nil || d.immediate == nil {
			t.Fatalf("%s: %v, want an immediate response", r.path, err)
		}
	}
	h := decisionHistogram(t, reg)
	if got := h.GetSampleCount(); got != uint64(len(decided)) {
		t.Fatalf("%d decisions observed, want %d", got, len(decided))
	}
	if s := h.GetSampleSum(); s <= 0 || s > float64(len(decided))*testTimeout.Seconds() {
		t.Errorf("decision latencies sum to %v s", s)
	}
}

// TestDecisionLatencyUsesClock: the latency is read from the injected
// clock (here one that jumps an hour at every reading), not time.Now.
func TestDecisionLatencyUsesClock(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := telemetry.NewMetrics(reg, telemetry.Options{})
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Hour)
		return now
	}
	p := startPicker(t, Options{Decisions: m, Now: clock}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	if d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)}); err != nil || d.immediate != nil {
		t.Fatalf("%v, immediate %v", err, d.immediate)
	}
	s.finish()
	h := decisionHistogram(t, reg)
	if h.GetSampleCount() != 1 || h.GetSampleSum() < time.Hour.Seconds() {
		t.Fatalf("%d observations summing to %v s, want one of at least an hour (the injected clock's)", h.GetSampleCount(), h.GetSampleSum())
	}
}
