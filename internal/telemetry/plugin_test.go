package telemetry

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// pluginCounts gathers reg and returns the sample count of every series of
// inference_extension_plugin_duration_seconds, keyed
// extension_point/plugin_type/plugin_name.
func pluginCounts(t *testing.T, reg prometheus.Gatherer) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "inference_extension_plugin_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			out[labels["extension_point"]+"/"+labels["plugin_type"]+"/"+labels["plugin_name"]] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// TestPickRecordsPluginDurations runs real scheduler picks with the
// metrics as their plugin observer, as the gateway wires them, and checks
// every plugin that ran recorded one duration per pick, under upstream's
// labels, and the others none.
func TestPickRecordsPluginDurations(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{})
	eps := make([]*pool.Endpoint, 3)
	now := time.Now()
	for i := range eps {
		eps[i] = pool.NewEndpoint(pool.Spec{Name: fmt.Sprintf("vllm-%d", i), Address: fmt.Sprintf("127.0.0.1:%d", 8000+i)})
		eps[i].SetMetrics(&pool.Metrics{WaitingQueue: i, KVCacheUsage: 0.1 * float64(i), ScrapedAt: now})
	}
	snap := pool.NewSnapshot(eps)
	s := scheduler.New(scheduler.DefaultConfig(), nil, scheduler.WithPluginObserver(m))
	rr := func() scheduler.Config {
		c := scheduler.DefaultConfig()
		c.Strategy = scheduler.StrategyRoundRobin
		return c
	}()
	baseline := scheduler.New(rr, nil, scheduler.WithPluginObserver(m))
	req := &scheduler.Request{Model: "llama", Prompt: []byte(`{"messages":[{"role":"user","content":"` + fmt.Sprint(make([]byte, 512)) + `"}]}`)}
	for range 3 {
		if _, err := s.Pick(req, snap, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := baseline.Pick(req, snap, now); err != nil {
		t.Fatal(err)
	}

	want := map[string]uint64{
		"Filter/exclusion-filter/exclusion":            4,
		"Filter/scrape-failure-filter/scrape-failures": 4,
		"Filter/stale-metrics-filter/stale-metrics":    4,
		"Scorer/queue-scorer/queue":                    3,
		"Scorer/kv-cache-utilization-scorer/kv-cache":  3,
		"Scorer/prefix-cache-scorer/prefix":            3,
		"Scorer/lora-affinity-scorer/lora":             3,
		"Scorer/in-flight-scorer/in-flight":            3,
		"Picker/max-score-picker/max-score":            3,
		"Picker/round-robin-picker/round-robin":        1,
		"Picker/random-picker/random":                  0,
		"Picker/least-request-picker/least-request":    0,
	}
	if diff := cmp.Diff(want, pluginCounts(t, reg)); diff != "" {
		t.Errorf("plugin_duration_seconds sample counts (-want +got):\n%s", diff)
	}
}

func TestObservePluginIgnoresUnknownPlugins(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{})
	m.ObservePlugin(scheduler.NumPlugins, time.Millisecond) // must not panic
	for key, n := range pluginCounts(t, reg) {
		if n != 0 {
			t.Errorf("%s has %d samples", key, n)
		}
	}
	var none *Metrics
	none.ObservePlugin(scheduler.PluginQueueScorer, time.Millisecond) // a nil *Metrics discards
}

// TestPluginSeriesFollowConfig checks only the configured scheduler's
// plugins get series: a default scheduler has no round-robin picker series
// and a disabled scorer none either.
func TestPluginSeriesFollowConfig(t *testing.T) {
	cfg := scheduler.DefaultConfig()
	cfg.Weights.LoRA = 0
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{Plugins: cfg.Plugins()})
	m.ObservePlugin(scheduler.PluginRoundRobinPicker, time.Millisecond)
	m.ObservePlugin(scheduler.PluginLoRAScorer, time.Millisecond)
	m.ObservePlugin(scheduler.PluginMaxScorePicker, time.Millisecond)
	want := map[string]uint64{
		"Filter/exclusion-filter/exclusion":            0,
		"Filter/scrape-failure-filter/scrape-failures": 0,
		"Filter/stale-metrics-filter/stale-metrics":    0,
		"Scorer/queue-scorer/queue":                    0,
		"Scorer/kv-cache-utilization-scorer/kv-cache":  0,
		"Scorer/prefix-cache-scorer/prefix":            0,
		"Scorer/in-flight-scorer/in-flight":            0,
		"Picker/max-score-picker/max-score":            1,
	}
	if diff := cmp.Diff(want, pluginCounts(t, reg)); diff != "" {
		t.Errorf("plugin_duration_seconds sample counts (-want +got):\n%s", diff)
	}
}
