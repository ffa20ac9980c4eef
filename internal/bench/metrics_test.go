package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const exposition = `# HELP vllm:prefix_cache_queries_total Prefix cache queries.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 250
vllm:kv_cache_usage_perc{engine="0",model_name="a}b"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.25 1700000000000
vllm:num_requests_waiting 3
vllm:num_requests_waiting_other 99
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.01"} 10
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1"} 90
vllm:time_to_first_token_seconds_bucket{engine="0",le="1"} 100
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} 100
vllm:num_preemptions_total NaN
`

func TestSumSamples(t *testing.T) {
	t.Parallel()
	got := sumSamples([]byte(exposition), metricPrefixQueries, metricPrefixHits, metricKVUsage, metricWaiting, metricPreemptions, "absent")
	want := map[string]float64{
		metricPrefixQueries: 1000,
		metricPrefixHits:    250,
		metricKVUsage:       0.75,
		metricWaiting:       3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sumSamples mismatch (-want +got):\n%s", diff)
	}
}

func TestHistogramQuantile(t *testing.T) {
	t.Parallel()
	var h histogram
	h.addExposition([]byte(exposition), metricTTFT)
	h.addExposition([]byte(exposition), metricTTFT) // a second replica, same counts
	tests := []struct {
		q, want float64
	}{
		{q: 0.05, want: 0.005},            // inside the first bucket, from 0
		{q: 0.5, want: 0.01 + 0.09*40/80}, // rank 100 of 200: bucket (0.01, 0.1]
		{q: 0.95, want: 0.1 + 0.9*10/20},
		{q: 1, want: 1},
	}
	for _, tc := range tests {
		if got := h.quantile(tc.q); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	stat := []byte("4242 (infer gate) (x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 12 0 100 0 0\n")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 1750*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 1.75s", cpu, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 -5 1"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) = nil error", bad)
		}
	}
	status := []byte("Name:\tinfergate\nVmPeak:\t  900 kB\nVmHWM:\t   31744 kB\nVmRSS:\t 20000 kB\n")
	if got := parseStatusKB(status, "VmHWM:"); got != 31744 {
		t.Errorf("VmHWM = %d, want 31744", got)
	}
	if got := parseStatusKB(status, "VmSwap:"); got != 0 {
		t.Errorf("absent key = %d, want 0", got)
	}
}

func TestLatencyOf(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 0, 101)
	for i := 100; i >= 0; i-- {
		vals = append(vals, float64(i))
	}
	want := Latency{P50: 50, P90: 90, P99: 99, Mean: 50, N: 101}
	if diff := cmp.Diff(want, latencyOf(vals)); diff != "" {
		t.Errorf("latencyOf mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Latency{P50: 7, P90: 7, P99: 7, Mean: 7, N: 1}, latencyOf([]float64{7})); diff != "" {
		t.Errorf("one sample (-want +got):\n%s", diff)
	}
	if got := latencyOf(nil); got != (Latency{}) {
		t.Errorf("no samples = %+v", got)
	}
}

func TestEvaluateTarget(t *testing.T) {
	t.Parallel()
	sr := &ScenarioResult{Runs: []*RunResult{
		{Strategy: "round-robin", Completed: 1, TTFT: Latency{P90: 400}, RequestsPerSecond: 10},
		{Strategy: "default", Completed: 1, TTFT: Latency{P90: 40}, RequestsPerSecond: 12, PrefixHitRate: 0.93, HitCeiling: 0.94},
		{Strategy: "random", Failed: "boom"},
	}}
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		target   Target
		compared float64
		met      bool
		missing  bool
	}{
		{name: "ratio met", target: Target{Metric: "ttft_p90", Strategy: "default", Baseline: "round-robin", Max: f(0.12)}, compared: 0.1, met: true},
		{name: "ratio missed", target: Target{Metric: "ttft_p90", Strategy: "default", Baseline: "round-robin", Max: f(0.05)}, compared: 0.1},
		{name: "min ratio", target: Target{Metric: "requests_per_s", Strategy: "default", Baseline: "round-robin", Min: f(1.15)}, compared: 1.2, met: true},
		{name: "difference", target: Target{Metric: "ttft_p90", Strategy: "default", Baseline: "round-robin", Diff: true, Max: f(0.5)}, compared: -360, met: true},
		{name: "absolute", target: Target{Metric: "hit_gap_pct", Strategy: "default", Max: f(1)}, compared: 1, met: true},
		{name: "failed run", target: Target{Metric: "ttft_p90", Strategy: "random", Max: f(1)}, missing: true},
		{name: "failed baseline", target: Target{Metric: "ttft_p90", Strategy: "default", Baseline: "random", Max: f(1)}, missing: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := evaluateTarget(sr, sr, tc.target, TargetResult{})
			if (got.Missing != "") != tc.missing {
				t.Fatalf("missing = %q, want missing %v", got.Missing, tc.missing)
			}
			if tc.missing {
				return
			}
			if math.Abs(got.Compared-tc.compared) > 1e-9 || got.Met != tc.met {
				t.Errorf("compared %v met %v, want %v %v", got.Compared, got.Met, tc.compared, tc.met)
			}
		})
	}
}

// TestTargetAgainstAnotherScenario compares a run with a run of another
// scenario of the same invocation (the "tenants" reference).
func TestTargetAgainstAnotherScenario(t *testing.T) {
	t.Parallel()
	suite, err := ParseSuite([]byte(`
name: t
scenarios:
  - name: busy
    strategies: ["default@queue"]
    workload: {type: fixed, requests: 1, fixed: {inputTokens: 1, outputTokens: 1}}
    arrival: {type: poisson, rate: 2}
    targets:
      - {name: r, metric: ttft_p90, strategy: "default@queue", baseline: "default@queue", baselineScenario: calm, max: 1.2}
  - name: calm
    strategies: ["default@queue"]
    workload: {type: fixed, requests: 1, fixed: {inputTokens: 1, outputTokens: 1}}
    arrival: {type: poisson, rate: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	run := func(p90 float64, point float64) *RunResult {
		return &RunResult{Strategy: "default@queue", Point: point, Completed: 1, TTFT: Latency{P90: p90}}
	}
	rep := &Report{Scenarios: []*ScenarioResult{
		{Name: "busy", Runs: []*RunResult{run(300, 2)}},
		{Name: "calm", Runs: []*RunResult{run(200, 1)}},
	}}
	got := evaluateTargets(suite, rep)
	if len(got) != 1 || got[0].Missing != "" || got[0].Compared != 1.5 || got[0].Met {
		t.Fatalf("targets %+v, want 300/200 = 1.5 missed", got)
	}
	if l := limitText(got[0].Target); l != "≤ 1.2× default@queue in calm" {
		t.Fatalf("limit %q", l)
	}
	rep.Scenarios = rep.Scenarios[:1]
	if got := evaluateTargets(suite, rep); got[0].Missing == "" {
		t.Fatal("a target whose baseline scenario did not run was evaluated")
	}
	_, err = ParseSuite([]byte(`
name: t
scenarios:
  - name: busy
    strategies: ["default@queue"]
    workload: {type: fixed, requests: 1, fixed: {inputTokens: 1, outputTokens: 1}}
    arrival: {type: poisson, rate: 2}
    targets:
      - {name: r, metric: ttft_p90, strategy: "default@queue", baseline: "default@queue", baselineScenario: nowhere, max: 1.2}
`))
	if err == nil || !strings.Contains(err.Error(), `baselineScenario "nowhere" is not in the suite`) {
		t.Fatalf("err = %v", err)
	}
}

// TestClassesGoodputPerArrivalWindow checks that a classes workload's
// goodput is divided by the arrival window, not by the run's length.
func TestClassesGoodputPerArrivalWindow(t *testing.T) {
	t.Parallel()
	recs := []record{{Index: 0, Status: 200, TTFT: 500 * time.Millisecond}, {Index: 1, Status: 200, TTFT: 3 * time.Second}}
	reqs := []Request{{Class: "a", SLO: time.Second}, {Class: "b"}}
	res := &RunResult{Requests: 2, DurationSeconds: 40, ArrivalWindowSeconds: 10}
	summarizeClasses(recs, reqs, 1, res)
	if res.Goodput != 0.2 || res.GoodputPerRunSecond != 0.05 || res.Classes["a"].Goodput != 0.1 {
		t.Fatalf("goodput %v, per run s %v, class a %v; want 0.2, 0.05, 0.1", res.Goodput, res.GoodputPerRunSecond, res.Classes["a"].Goodput)
	}
}

// TestClassesAdmittedTTFT checks that a class's TTFT from admission leaves
// out the gateway's queue wait and the client-side hold.
func TestClassesAdmittedTTFT(t *testing.T) {
	t.Parallel()
	recs := []record{{Index: 0, Status: 200, TTFT: 500 * time.Millisecond, QueueWait: 300 * time.Millisecond, Held: 100 * time.Millisecond}}
	reqs := []Request{{Class: "a"}}
	res := &RunResult{Requests: 1, DurationSeconds: 1}
	summarizeClasses(recs, reqs, 2, res)
	c := res.Classes["a"]
	if c.TTFT.P90 != 1000 || c.QueueWait.P90 != 600 || c.AdmittedTTFT.P90 != 200 {
		t.Fatalf("TTFT %v, queue wait %v, from admission %v model ms; want 1000, 600, 200", c.TTFT.P90, c.QueueWait.P90, c.AdmittedTTFT.P90)
	}
	if v, ok := classMetric("admitted_ttft_p90@a", res); !ok || v != 200 {
		t.Fatalf("admitted_ttft_p90@a = %v, %v", v, ok)
	}
}
