//go:build !race

package telemetry

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/scheduler"
)

// TestObservePluginAllocs enforces that recording a plugin's duration, which
// the scheduler does for every plugin of every pick, allocates nothing.
// (The race detector allocates, hence the build tag.)
func TestObservePluginAllocs(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry(), Options{})
	var obs scheduler.PluginObserver = m
	allocs := testing.AllocsPerRun(500, func() {
		for p := range scheduler.NumPlugins {
			obs.ObservePlugin(p, 20*time.Microsecond)
		}
	})
	if allocs != 0 {
		t.Errorf("ObservePlugin allocated %v times per pick, want 0", allocs)
	}
}

// TestObserveDecisionAllocs: recording the ext_proc picker's decision
// latency, once per decision, allocates nothing.
func TestObserveDecisionAllocs(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry(), Options{})
	if allocs := testing.AllocsPerRun(500, func() { m.ObserveDecision(120 * time.Microsecond) }); allocs != 0 {
		t.Errorf("ObserveDecision allocated %v times, want 0", allocs)
	}
}

// BenchmarkObservePlugins measures recording the durations of one default
// pick's nine plugins (three filters, five scorers, one picker).
//
//	go test -run '^$' -bench BenchmarkObservePlugins -benchmem ./internal/telemetry/
func BenchmarkObservePlugins(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry(), Options{})
	var obs scheduler.PluginObserver = m
	b.ReportAllocs()
	for b.Loop() {
		for p := range scheduler.PluginMaxScorePicker + 1 {
			obs.ObservePlugin(p, 20*time.Microsecond)
		}
	}
}
