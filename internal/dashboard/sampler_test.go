package dashboard

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/telemetry"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func ptr(v float64) *float64 { return &v }

// TestSamplerSeries feeds the charts from whichever metric name set is
// enabled.
func TestSamplerSeries(t *testing.T) {
	t.Parallel()
	for _, sets := range []telemetry.NameSets{{}, {LLMD: true}, {GIE: true}, {Legacy: true}} {
		t.Run(fmt.Sprintf("%+v", sets), func(t *testing.T) {
			t.Parallel()
			samplerSeries(t, sets)
		})
	}
}

func samplerSeries(t *testing.T, sets telemetry.NameSets) {
	reg := prometheus.NewRegistry()
	m := telemetry.NewMetrics(reg, telemetry.Options{NameSets: sets})
	clk := &clock{t: time.Unix(1000, 0)}
	s := NewSampler(SamplerOptions{Gatherer: reg, Interval: time.Second, History: 4, LatencyWindow: 2, Now: clk.now})

	if got := s.Series(); len(got.Points) != 0 || got.RequestsTotal != 0 {
		t.Fatalf("before any sample: %+v", got)
	}
	ok := func(model string, d time.Duration) {
		m.ObserveRequest(telemetry.RequestObservation{Model: model, TargetModel: model, Duration: d, ResponseBytes: 1})
	}
	fail := func() {
		m.ObserveRequest(telemetry.RequestObservation{Model: "a", TargetModel: "a", ErrorCode: telemetry.ErrorModelServerError})
	}

	s.Sample() // t=1000: nothing yet
	for range 4 {
		ok("a", 300*time.Millisecond) // in the (0.2, 0.4] bucket
	}
	ok("b", 300*time.Millisecond) // another label set is summed in
	fail()
	clk.advance(time.Second)
	s.Sample() // t=1001: 6 requests, 1 error
	clk.advance(2 * time.Second)
	s.Sample() // t=1003: idle for 2 s
	for range 10 {
		ok("a", 2500*time.Millisecond) // (2, 3]
	}
	clk.advance(time.Second)
	s.Sample() // t=1004

	got := s.Series()
	// Latency windows span 2 intervals: at 1003 it still covers 1001's requests.
	want := Series{
		IntervalSeconds:      1,
		LatencyWindowSeconds: 2,
		RequestsTotal:        16,
		ErrorsTotal:          1,
		Points: []Point{
			{At: 1001000, RequestRate: 6, ErrorRate: 1, P50: ptr(0.2 + 0.2*2.5/5), P90: ptr(0.2 + 0.2*4.5/5), P99: ptr(0.2 + 0.2*4.95/5)},
			{At: 1003000, RequestRate: 0, ErrorRate: 0, P50: ptr(0.2 + 0.2*2.5/5), P90: ptr(0.2 + 0.2*4.5/5), P99: ptr(0.2 + 0.2*4.95/5)},
			{At: 1004000, RequestRate: 10, ErrorRate: 0, P50: ptr(2 + 1*5.0/10), P90: ptr(2 + 1*9.0/10), P99: ptr(2 + 1*9.9/10)},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}

	// A quiet latency window has no percentiles.
	for range 3 {
		clk.advance(time.Second)
		s.Sample()
	}
	last := s.Series().Points
	if p := last[len(last)-1]; p.P50 != nil || p.RequestRate != 0 {
		t.Errorf("quiet point = %+v, want no percentiles and rate 0", p)
	}
	// History bounds the points.
	for range 20 {
		clk.advance(time.Second)
		s.Sample()
	}
	if n := len(s.Series().Points); n != 4 {
		t.Errorf("points = %d, want History = 4", n)
	}
}

func TestDiffBuckets(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	tests := []struct {
		name     string
		cur, old []bucket
		want     []bucket
	}{
		{name: "old empty", cur: []bucket{{1, 2}, {inf, 3}}, want: []bucket{{1, 2}, {inf, 3}}},
		{name: "same bounds", cur: []bucket{{1, 5}, {inf, 9}}, old: []bucket{{1, 2}, {inf, 3}}, want: []bucket{{1, 3}, {inf, 6}}},
		{name: "old has fewer bounds", cur: []bucket{{0.5, 1}, {1, 5}, {inf, 9}}, old: []bucket{{1, 2}, {inf, 3}}, want: []bucket{{0.5, 1}, {1, 3}, {inf, 6}}},
		{name: "negative clamps to zero", cur: []bucket{{1, 1}, {inf, 1}}, old: []bucket{{1, 2}, {inf, 3}}, want: []bucket{{1, 0}, {inf, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, diffBuckets(tc.cur, tc.old), cmp.AllowUnexported(bucket{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSamplerRunStops(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := NewSampler(SamplerOptions{Gatherer: reg, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(10 * time.Second)
	for len(s.Series().Points) < 2 {
		select {
		case <-deadline:
			t.Fatal("sampler took no samples")
		case <-poll.C:
		}
	}
	cancel()
	<-done
}
