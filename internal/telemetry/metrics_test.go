package telemetry

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// recordSequence drives every Metrics method with a fixed sequence.
func recordSequence(m *Metrics) {
	m.ObserveRequest(RequestObservation{
		Model: "llama", TargetModel: "llama-lora", Priority: 1, FairnessID: "tenant-a", Streaming: true,
		Duration: 1500 * time.Millisecond, RequestBytes: 1000, ResponseBytes: 2000,
		InputTokens: 100, OutputTokens: 50, CachedTokens: 64,
		TTFT: 200 * time.Millisecond, TPOT: 20 * time.Millisecond,
		RequestProcessing: 3 * time.Millisecond, ResponseProcessing: 400 * time.Microsecond,
	})
	// Unknown token counts and timings are not observed.
	m.ObserveRequest(RequestObservation{
		Model: "llama", TargetModel: "llama-lora", Priority: 1,
		Duration: 40 * time.Millisecond, RequestBytes: 300, ResponseBytes: 10,
		RequestProcessing: time.Millisecond,
	})
	m.ObserveRequest(RequestObservation{Model: "llama", ErrorCode: ErrorBadRequest, RequestBytes: 20, Duration: time.Millisecond})
	m.ObserveRequest(RequestObservation{Model: "llama", TargetModel: "llama-lora", ErrorCode: "Weird", Duration: time.Second})
	m.RunningAdd(exchange.Running{Model: "llama", TargetModel: "llama-lora", FairnessID: "tenant-a", Priority: 1}, 1)
	m.RunningAdd(exchange.Running{Model: "llama", TargetModel: "llama-lora", FairnessID: "tenant-a", Priority: 1}, 1)
	m.RunningAdd(exchange.Running{Model: "llama", TargetModel: "llama-lora", FairnessID: "tenant-a", Priority: 1}, -1)
	if gap := m.StreamGaps(exchange.Running{Model: "llama", TargetModel: "llama-lora", FairnessID: "tenant-a", Priority: 1}); gap != nil {
		gap(30 * time.Millisecond)
		gap(70 * time.Millisecond)
	}
	m.ObserveSchedule(300*time.Microsecond, true, "llama-lora", "vllm-0", "serving", "8000")
	m.ObserveSchedule(50*time.Microsecond, false, "llama-lora", "", "", "")
	m.ObservePlugin(scheduler.PluginQueueScorer, 30*time.Microsecond)
	m.ObservePlugin(scheduler.PluginMaxScorePicker, 5*time.Microsecond)
	m.ObservePrefix(0.5, 128)
	m.ObservePrefix(0, 0)
	m.SetPrefixIndexSize(42)
	m.ObserveDecision(300 * time.Microsecond) // on the 0.0003 boundary: counted at or under it
	m.ObserveDecision(1500 * time.Microsecond)
}

// exposition renders every family of g in the text format.
func exposition(t *testing.T, g prometheus.Gatherer) *bytes.Buffer {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return &buf
}

// compareGolden compares the exposition of reg with testdata/name, or
// rewrites the file under -update.
func compareGolden(t *testing.T, reg prometheus.Gatherer, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, exposition(t, reg).Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, bytes.NewReader(want)); err != nil {
		t.Errorf("exposition differs from %s (rerun with -update after checking): %v", path, err)
	}
}

func TestMetricsGolden(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{Commit: "abc123", BuildRef: "v0.1.0", Plugins: scheduler.DefaultConfig().Plugins()})
	recordSequence(m)
	compareGolden(t, reg, "metrics.golden")
}

func TestObserveRequestCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{NameSets: NameSets{GIE: true}})
	recordSequence(m)

	total := testutil.ToFloat64(sumCounter(t, reg, "inference_objective_request_total"))
	errs := testutil.ToFloat64(sumCounter(t, reg, "inference_objective_request_error_total"))
	if total != 4 || errs != 2 {
		t.Errorf("request_total = %v, request_error_total = %v; want 4 and 2", total, errs)
	}
	counts := map[string]uint64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			if h := metric.GetHistogram(); h != nil {
				counts[mf.GetName()] += h.GetSampleCount()
			}
		}
	}
	want := map[string]uint64{
		"inference_objective_request_duration_seconds":                 2, // successes only
		"inference_objective_request_sizes":                            3, // every request with a known size
		"inference_objective_response_sizes":                           2,
		"inference_objective_input_tokens":                             1, // 0 = unknown, skipped
		"inference_objective_output_tokens":                            1,
		"inference_objective_prompt_cached_tokens":                     1,
		"inference_objective_normalized_time_per_output_token_seconds": 1,
		"inference_objective_request_ttft_seconds":                     1,
		"inference_objective_request_tpot_seconds":                     1,
		"inference_extension_scheduler_e2e_duration_seconds":           2,
		"inference_extension_plugin_duration_seconds":                  2,
		"inference_extension_prefix_indexer_hit_ratio":                 2,
		"inference_extension_prefix_indexer_hit_bytes":                 2,
		"infergate_extproc_decision_duration_seconds":                  2,
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("histogram sample counts (-want +got):\n%s", diff)
	}
}

// sumCounter returns a collector exposing the sum of all series of the named
// counter family, for use with testutil.ToFloat64.
func sumCounter(t *testing.T, g prometheus.Gatherer, name string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	c.Add(sum)
	return c
}

func TestErrorRatioNeverAboveOne(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{})
	// Requests failing before the model is known and before scheduling.
	for _, code := range []string{ErrorBadRequest, ErrorNotFound, ErrorResourceExhausted, ErrorServiceUnavailable} {
		m.ObserveRequest(RequestObservation{ErrorCode: code})
	}
	total := testutil.ToFloat64(sumCounter(t, reg, "inference_objective_request_total"))
	errs := testutil.ToFloat64(sumCounter(t, reg, "inference_objective_request_error_total"))
	if total != 4 || errs != 4 {
		t.Errorf("request_total = %v, request_error_total = %v; want 4 and 4", total, errs)
	}
}

// TestNameSets checks that each name set switches exactly its families, and
// that the legacy copies mirror the GIE per-objective families.
func TestNameSets(t *testing.T) {
	count := func(mfs []string, prefix string) (out []string) {
		for _, n := range mfs {
			if strings.HasPrefix(n, prefix) {
				out = append(out, strings.TrimPrefix(n, prefix))
			}
		}
		return out
	}
	for _, sets := range []NameSets{{LLMD: true}, {GIE: true}, {Legacy: true}, {GIE: true, Legacy: true}, {}} {
		t.Run(fmt.Sprintf("%+v", sets), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			recordSequence(NewMetrics(reg, Options{NameSets: sets}))
			store := pool.NewStore("p")
			reg.MustRegister(NewPoolCollector(store, 0, nil, sets))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, mf := range mfs {
				names = append(names, mf.GetName())
			}
			all := sets.orAll()
			want := map[string]int{llmdPrefix: 0, objectivePrefix: 0, legacyPrefix: 0, extensionPrefix: 0, poolPrefix: 0}
			if all.LLMD {
				want[llmdPrefix] = 29 // per_endpoint_queue_size has no series without endpoints
			}
			if all.GIE {
				want[objectivePrefix], want[extensionPrefix], want[poolPrefix] = 12, 7, 4
			}
			if all.Legacy {
				want[legacyPrefix] = 12
			}
			for prefix, n := range want {
				if got := count(names, prefix); len(got) != n {
					t.Errorf("%d %s* families, want %d: %v", len(got), prefix, n, got)
				}
			}
			if all.GIE && all.Legacy {
				if diff := cmp.Diff(count(names, objectivePrefix), count(names, legacyPrefix)); diff != "" {
					t.Errorf("legacy families differ from current ones (-current +legacy):\n%s", diff)
				}
			}
		})
	}
}

func TestModelNameCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{ModelNameLimit: 2})
	for _, o := range []RequestObservation{
		{Model: "a", TargetModel: "a"},
		{Model: "b", TargetModel: "a"},
		{Model: "c", TargetModel: "d"}, // both new after the cap is full
		{Model: "a", TargetModel: "b"}, // admitted names keep passing
		{Model: "", TargetModel: ""},   // empty uses no slot
		{Model: "other", TargetModel: "e"},
	} {
		m.ObserveRequest(o)
	}
	m.RunningAdd(exchange.Running{Model: "z"}, 1)
	m.RunningAdd(exchange.Running{Model: "a"}, 1)

	got := labelValues(t, reg, "inference_objective_request_total", "model_name", "target_model_name")
	want := []string{"/", "a/a", "a/b", "b/a", "other/other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request_total label values (-want +got):\n%s", diff)
	}
	if v := testutil.ToFloat64(m.objectives[0].requests.WithLabelValues("other", "other", "0")); v != 2 {
		t.Errorf("other/other count = %v, want 2", v)
	}
	got = labelValues(t, reg, "inference_objective_running_requests", "model_name")
	if diff := cmp.Diff([]string{"a", "other"}, got); diff != "" {
		t.Errorf("running_requests label values (-want +got):\n%s", diff)
	}
}

func TestModelNameCapConcurrent(t *testing.T) {
	const limit = 10
	c := newModelCap(limit, 1000, 100)
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for g := range results {
		wg.Go(func() {
			for i := range 100 {
				results[g] = append(results[g], c.label(fmt.Sprintf("model-%d", (i*7+g)%50)))
			}
		})
	}
	wg.Wait()
	distinct := map[string]bool{}
	for _, r := range results {
		for _, v := range r {
			distinct[v] = true
		}
	}
	if !distinct[OverflowModelName] || len(distinct) != limit+1 {
		t.Errorf("got %d distinct labels (other present: %v), want %d names plus %q",
			len(distinct), distinct[OverflowModelName], limit, OverflowModelName)
	}
	// Every name maps to the same value on every later call.
	for name := range 50 {
		n := fmt.Sprintf("model-%d", name)
		first := c.label(n)
		if again := c.label(n); again != first {
			t.Errorf("label(%q) = %q then %q", n, first, again)
		}
	}
	if len(c.seen) != limit {
		t.Errorf("cap holds %d names, want %d", len(c.seen), limit)
	}
}

func TestPinnedModelsKeepTheirLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Unix(1_000_000, 0)
	// Combination slots: junk-0, junk-1, the overflow names' one, llama's.
	m := NewMetrics(reg, Options{ModelNameLimit: 2, ModelPairLimit: 4, Now: func() time.Time { return now }})
	m.PinModels([]PinnedModel{{Name: "llama"}, {Name: "sql-lora"}})
	// A flood of client-made names fills the cap first...
	for i := range 50 {
		m.ObserveRequest(RequestObservation{Model: fmt.Sprintf("junk-%d", i), TargetModel: fmt.Sprintf("junk-%d", i)})
	}
	// ...and pinned names still keep their own values.
	m.ObserveRequest(RequestObservation{Model: "llama", TargetModel: "sql-lora"}) // the last combination slot
	m.RunningAdd(exchange.Running{Model: "llama", TargetModel: "llama-lora", FairnessID: "tenant-a", Priority: 1}, 1)
	got := labelValues(t, reg, "inference_objective_request_total", "model_name", "target_model_name")
	want := []string{"junk-0/junk-0", "junk-1/junk-1", "llama/sql-lora", "other/other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request_total label values (-want +got):\n%s", diff)
	}

	// Listed again within 10 minutes: kept. Missing for 10 minutes: unpinned,
	// series deleted.
	now = now.Add(9 * time.Minute)
	m.PinModels([]PinnedModel{{Name: "llama"}})
	now = now.Add(2 * time.Minute)
	m.PinModels([]PinnedModel{{Name: "llama"}})
	got = labelValues(t, reg, "inference_objective_request_total", "model_name", "target_model_name")
	want = []string{"junk-0/junk-0", "junk-1/junk-1", "other/other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after unpinning sql-lora (-want +got):\n%s", diff)
	}
	if got := labelValues(t, reg, "inference_objective_running_requests", "model_name"); !slices.Contains(got, "llama") {
		t.Errorf("running_requests lost the still-pinned llama: %v", got)
	}
}

func TestModelPairCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{ModelNameLimit: 100, ModelPairLimit: 3})
	m.PinModels([]PinnedModel{{Name: "base", Targets: []string{"lora"}}, {Name: "chat"}})
	for i := range 10 {
		m.ObserveRequest(RequestObservation{Model: "base", TargetModel: fmt.Sprintf("t%d", i)})
		m.ObserveRequest(RequestObservation{Model: fmt.Sprintf("c%d", i), TargetModel: "lora"})
	}
	// Natural pairs are free whenever they come.
	m.ObserveRequest(RequestObservation{Model: "base", TargetModel: "lora"})
	m.ObserveRequest(RequestObservation{Model: "chat", TargetModel: "chat"})
	// Other pinned combinations take slots like any pair.
	m.ObserveRequest(RequestObservation{Model: "chat", TargetModel: "lora"})
	got := labelValues(t, reg, "inference_objective_request_total", "model_name", "target_model_name")
	want := []string{"base/lora", "base/other", "base/t0", "base/t1", "c0/lora", "chat/chat", "chat/other", "other/other"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request_total label values (-want +got):\n%s", diff)
	}
}

func TestBadLabelValuesNeverReachPrometheus(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{})
	long := strings.Repeat("m", maxLabelBytes+1)
	// Invalid UTF-8 panics inside WithLabelValues if it gets there.
	m.ObserveRequest(RequestObservation{Model: "ok\xff\xfe", TargetModel: long})
	m.ObserveSchedule(time.Millisecond, true, "sql-lora\xff\xfe", "ep", "", "80")
	m.RunningAdd(exchange.Running{Model: "x\xc3"}, 1)
	m.PinModels([]PinnedModel{{Name: "bad\xff", Targets: []string{long}}})
	got := labelValues(t, reg, "inference_objective_request_total", "model_name", "target_model_name")
	if diff := cmp.Diff([]string{"other/other"}, got); diff != "" {
		t.Errorf("request_total label values (-want +got):\n%s", diff)
	}
}

// labelValues returns "v1/v2/..." for each series of the family, sorted as
// gathered.
func labelValues(t *testing.T, g prometheus.Gatherer, family string, labels ...string) []string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			vals := make([]string, len(labels))
			for i, l := range labels {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == l {
						vals[i] = lp.GetValue()
					}
				}
			}
			out = append(out, strings.Join(vals, "/"))
		}
	}
	return out
}

// reservedLabels are target labels owned by the scraper (Prometheus, GMP).
var reservedLabels = map[string]bool{
	"namespace": true, "cluster": true, "pod": true, "job": true, "instance": true,
	"location": true, "project_id": true,
}

func TestNoReservedLabels(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg, Options{})
	recordSequence(m)
	store := pool.NewStore("pool-a")
	store.Sync([]pool.Spec{{Name: "vllm-0", Address: "10.0.0.1:8000"}})
	now := time.Unix(1000, 0)
	store.Load().Endpoints()[0].SetMetrics(&pool.Metrics{WaitingQueue: 1, ScrapedAt: now})
	reg.MustRegister(NewPoolCollector(store, time.Minute, func() time.Time { return now }, NameSets{}))

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series int
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			series++
			for _, lp := range metric.GetLabel() {
				if reservedLabels[lp.GetName()] {
					t.Errorf("%s has reserved label %q", mf.GetName(), lp.GetName())
				}
			}
		}
	}
	// Guard against a vacuous pass: every family of ours must have been gathered.
	if len(mfs) < 12*2+7+5 || series == 0 {
		t.Fatalf("gathered only %d families", len(mfs))
	}
}

func TestLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	recordSequence(NewMetrics(reg, Options{}))
	store := pool.NewStore("pool-a")
	reg.MustRegister(NewPoolCollector(store, time.Minute, nil, NameSets{}))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// llm-d's prefix reads as a unit ("_d_", days) to the linter; the
		// name is upstream's and cannot change.
		if strings.HasPrefix(p.Metric, llmdPrefix) && strings.Contains(p.Text, "abbreviated units") {
			continue
		}
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	recordSequence(m) // must not panic
}

func TestUnregisteredMetrics(t *testing.T) {
	m := NewMetrics(nil, Options{})
	recordSequence(m)
	if v := testutil.ToFloat64(m.objectives[0].running.WithLabelValues("llama")); v != 1 {
		t.Errorf("running_requests = %v, want 1", v)
	}
}

func TestBucketLists(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		n       int
		first   float64
		last    float64
	}{
		{name: "generalLatency", buckets: generalLatencyBuckets, n: 35, first: 0.005, last: 3600},
		{name: "tpot", buckets: tpotBuckets, n: 35, first: 0.0005, last: 360},
		{name: "sched", buckets: schedulerBuckets, n: 10, first: 0.0001, last: 0.1},
		{name: "reqSize", buckets: requestSizeBuckets, n: 25, first: 64, last: 1 << 30},
		{name: "respSize", buckets: responseSizeBuckets, n: 15, first: 1, last: 65536},
		{name: "inTok", buckets: inputTokenBuckets, n: 19, first: 1, last: 1 << 20},
		{name: "outTok", buckets: outputTokenBuckets, n: 12, first: 1, last: 8192},
		{name: "ntpot", buckets: ntpotBuckets, n: 13, first: 0.001, last: 10},
		{name: "hitRatio", buckets: hitRatioBuckets, n: 11, first: 0, last: 1},
		{name: "hitBytes", buckets: hitBytesBuckets, n: 14, first: 0, last: 65536},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.buckets
			if len(b) != tc.n || b[0] != tc.first || b[len(b)-1] != tc.last {
				t.Errorf("got %d buckets %v..%v, want %d buckets %v..%v", len(b), b[0], b[len(b)-1], tc.n, tc.first, tc.last)
			}
			for i := 1; i < len(b); i++ {
				if b[i] <= b[i-1] {
					t.Errorf("bucket %d (%v) not above %v", i, b[i], b[i-1])
				}
			}
		})
	}
	// Upstream's typo is part of the series identity.
	for _, b := range [][]float64{responseSizeBuckets, inputTokenBuckets} {
		if b[13] != 32778 {
			t.Errorf("bucket 13 = %v, want upstream's 32778", b[13])
		}
	}
}
