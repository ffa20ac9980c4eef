package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/infergate/infergate/internal/pool"
)

func TestPoolCollector(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const staleness = 10 * time.Second

	tests := []struct {
		name    string
		specs   []pool.Spec
		metrics map[string]*pool.Metrics // by address; missing = never scraped
		only    []string                 // families to compare; nil = all
		want    string
	}{
		{
			name: "fresh, stale and unscraped endpoints",
			specs: []pool.Spec{
				{Name: "vllm-0", Address: "10.0.0.1:8000"},
				{Name: "vllm-1", Address: "10.0.0.2:8000"},
				{Name: "vllm-2", Address: "10.0.0.3:8000"}, // stale
				{Name: "vllm-3", Address: "10.0.0.4:8000"}, // never scraped
			},
			metrics: map[string]*pool.Metrics{
				"10.0.0.1:8000": {WaitingQueue: 2, Running: 4, KVCacheUsage: 0.5, ScrapedAt: now.Add(-staleness)},
				"10.0.0.2:8000": {WaitingQueue: 5, Running: 1, KVCacheUsage: 0.25, ScrapedAt: now},
				"10.0.0.3:8000": {WaitingQueue: 100, Running: 100, KVCacheUsage: 1, ScrapedAt: now.Add(-staleness - time.Millisecond)},
			},
			want: `
# HELP inference_pool_average_kv_cache_utilization [ALPHA] [Deprecated: Use llm_d_epp_average_kv_cache_utilization] Mean KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics.
# TYPE inference_pool_average_kv_cache_utilization gauge
inference_pool_average_kv_cache_utilization{name="pool-a"} 0.375
# HELP inference_pool_average_queue_size [ALPHA] [Deprecated: Use llm_d_epp_average_queue_size] Mean number of requests waiting in the model servers' queues over endpoints with fresh metrics.
# TYPE inference_pool_average_queue_size gauge
inference_pool_average_queue_size{name="pool-a"} 3.5
# HELP inference_pool_average_running_requests [ALPHA] [Deprecated: Use llm_d_epp_average_running_requests] Mean number of requests in the model servers' running batches over endpoints with fresh metrics.
# TYPE inference_pool_average_running_requests gauge
inference_pool_average_running_requests{name="pool-a"} 2.5
# HELP inference_pool_per_pod_queue_size [ALPHA] [Deprecated: Use llm_d_epp_per_endpoint_queue_size] Number of requests waiting in one model server's queue.
# TYPE inference_pool_per_pod_queue_size gauge
inference_pool_per_pod_queue_size{model_server_pod="vllm-0",name="pool-a"} 2
inference_pool_per_pod_queue_size{model_server_pod="vllm-1",name="pool-a"} 5
# HELP inference_pool_ready_pods [ALPHA] [Deprecated: Use llm_d_epp_ready_endpoints] Number of the pool's endpoints with fresh metrics.
# TYPE inference_pool_ready_pods gauge
inference_pool_ready_pods{name="pool-a"} 2
`,
		},
		{
			name:  "no fresh endpoint reports zeros",
			specs: []pool.Spec{{Name: "vllm-0", Address: "10.0.0.1:8000"}},
			metrics: map[string]*pool.Metrics{
				"10.0.0.1:8000": {WaitingQueue: 7, Running: 3, KVCacheUsage: 0.9, ScrapedAt: now.Add(-time.Hour)},
			},
			want: `
# HELP inference_pool_average_kv_cache_utilization [ALPHA] [Deprecated: Use llm_d_epp_average_kv_cache_utilization] Mean KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics.
# TYPE inference_pool_average_kv_cache_utilization gauge
inference_pool_average_kv_cache_utilization{name="pool-a"} 0
# HELP inference_pool_average_queue_size [ALPHA] [Deprecated: Use llm_d_epp_average_queue_size] Mean number of requests waiting in the model servers' queues over endpoints with fresh metrics.
# TYPE inference_pool_average_queue_size gauge
inference_pool_average_queue_size{name="pool-a"} 0
# HELP inference_pool_average_running_requests [ALPHA] [Deprecated: Use llm_d_epp_average_running_requests] Mean number of requests in the model servers' running batches over endpoints with fresh metrics.
# TYPE inference_pool_average_running_requests gauge
inference_pool_average_running_requests{name="pool-a"} 0
# HELP inference_pool_ready_pods [ALPHA] [Deprecated: Use llm_d_epp_ready_endpoints] Number of the pool's endpoints with fresh metrics.
# TYPE inference_pool_ready_pods gauge
inference_pool_ready_pods{name="pool-a"} 0
`,
		},
		{
			name: "duplicate or empty names fall back to the address",
			specs: []pool.Spec{
				{Name: "vllm", Address: "10.0.0.1:8000"},
				{Name: "vllm", Address: "10.0.0.2:8000"},
				{Name: "", Address: "10.0.0.3:8000"},
			},
			metrics: map[string]*pool.Metrics{
				"10.0.0.1:8000": {WaitingQueue: 1, ScrapedAt: now},
				"10.0.0.2:8000": {WaitingQueue: 2, ScrapedAt: now},
				"10.0.0.3:8000": {WaitingQueue: 3, ScrapedAt: now},
			},
			only: []string{"inference_pool_per_pod_queue_size"},
			want: `
# HELP inference_pool_per_pod_queue_size [ALPHA] [Deprecated: Use llm_d_epp_per_endpoint_queue_size] Number of requests waiting in one model server's queue.
# TYPE inference_pool_per_pod_queue_size gauge
inference_pool_per_pod_queue_size{model_server_pod="10.0.0.2:8000",name="pool-a"} 2
inference_pool_per_pod_queue_size{model_server_pod="10.0.0.3:8000",name="pool-a"} 3
inference_pool_per_pod_queue_size{model_server_pod="vllm",name="pool-a"} 1
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := pool.NewStore("pool-a")
			snap := store.Sync(tc.specs)
			for _, ep := range snap.Endpoints() {
				if m, ok := tc.metrics[ep.Address()]; ok {
					ep.SetMetrics(m)
				}
			}
			c := NewPoolCollector(store, staleness, func() time.Time { return now }, NameSets{GIE: true})
			if err := testutil.CollectAndCompare(c, strings.NewReader(tc.want), tc.only...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPoolCollectorFollowsStore(t *testing.T) {
	now := time.Unix(5000, 0)
	store := pool.NewStore("pool-a")
	c := NewPoolCollector(store, time.Second, func() time.Time { return now }, NameSets{GIE: true})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	ready := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "inference_pool_ready_pods" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("ready_pods not gathered")
		return 0
	}
	if got := ready(); got != 0 {
		t.Errorf("empty pool: ready_pods = %v, want 0", got)
	}
	snap := store.Sync([]pool.Spec{{Name: "a", Address: "a:1"}, {Name: "b", Address: "b:1"}})
	for _, ep := range snap.Endpoints() {
		ep.SetMetrics(&pool.Metrics{ScrapedAt: now})
	}
	if got := ready(); got != 2 {
		t.Errorf("after sync: ready_pods = %v, want 2", got)
	}
	now = now.Add(2 * time.Second) // both go stale
	if got := ready(); got != 0 {
		t.Errorf("after staleness: ready_pods = %v, want 0", got)
	}
}

func TestPoolCollectorsForTwoPools(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	for _, name := range []string{"pool-a", "pool-b"} {
		if err := reg.Register(NewPoolCollector(pool.NewStore(name), time.Second, nil, NameSets{})); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	n, err := testutil.GatherAndCount(reg, "inference_pool_ready_pods")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("got %d ready_pods series, want one per pool", n)
	}
}

func TestPoolCollectorNoStaleness(t *testing.T) {
	store := pool.NewStore("p")
	snap := store.Sync([]pool.Spec{{Name: "a", Address: "a:1"}})
	snap.Endpoints()[0].SetMetrics(&pool.Metrics{ScrapedAt: time.Unix(0, 0)})
	c := NewPoolCollector(store, 0, nil, NameSets{GIE: true})
	want := `
# HELP inference_pool_ready_pods [ALPHA] [Deprecated: Use llm_d_epp_ready_endpoints] Number of the pool's endpoints with fresh metrics.
# TYPE inference_pool_ready_pods gauge
inference_pool_ready_pods{name="p"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "inference_pool_ready_pods"); err != nil {
		t.Error(err)
	}
}

// TestPoolCollectorLLMD checks the llm_d_epp_* pool gauges: the same means
// as the GIE set, ready_endpoints, per_endpoint_queue_size and the
// population standard deviations over fresh endpoints only.
func TestPoolCollectorLLMD(t *testing.T) {
	now := time.Unix(5000, 0)
	store := pool.NewStore("pool-a")
	snap := store.Sync([]pool.Spec{
		{Name: "vllm-0", Address: "10.0.0.1:8000"},
		{Name: "vllm-1", Address: "10.0.0.2:8000"},
		{Name: "vllm-2", Address: "10.0.0.3:8000"}, // stale
	})
	vals := map[string]*pool.Metrics{
		"10.0.0.1:8000": {WaitingQueue: 2, Running: 4, KVCacheUsage: 0.5, ScrapedAt: now},
		"10.0.0.2:8000": {WaitingQueue: 6, Running: 1, KVCacheUsage: 0.25, ScrapedAt: now},
		"10.0.0.3:8000": {WaitingQueue: 100, Running: 100, KVCacheUsage: 1, ScrapedAt: now.Add(-time.Hour)},
	}
	for _, ep := range snap.Endpoints() {
		ep.SetMetrics(vals[ep.Address()])
	}
	c := NewPoolCollector(store, time.Second, func() time.Time { return now }, NameSets{LLMD: true})
	const want = `
# HELP llm_d_epp_average_kv_cache_utilization [ALPHA] Mean KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics.
# TYPE llm_d_epp_average_kv_cache_utilization gauge
llm_d_epp_average_kv_cache_utilization{name="pool-a"} 0.375
# HELP llm_d_epp_average_queue_size [ALPHA] Mean number of requests waiting in the model servers' queues over endpoints with fresh metrics.
# TYPE llm_d_epp_average_queue_size gauge
llm_d_epp_average_queue_size{name="pool-a"} 4
# HELP llm_d_epp_average_running_requests [ALPHA] Mean number of requests in the model servers' running batches over endpoints with fresh metrics.
# TYPE llm_d_epp_average_running_requests gauge
llm_d_epp_average_running_requests{name="pool-a"} 2.5
# HELP llm_d_epp_per_endpoint_queue_size [ALPHA] Number of requests waiting in one model server's queue.
# TYPE llm_d_epp_per_endpoint_queue_size gauge
llm_d_epp_per_endpoint_queue_size{model_server_endpoint="vllm-0",name="pool-a"} 2
llm_d_epp_per_endpoint_queue_size{model_server_endpoint="vllm-1",name="pool-a"} 6
# HELP llm_d_epp_ready_endpoints [ALPHA] Number of the pool's endpoints with fresh metrics.
# TYPE llm_d_epp_ready_endpoints gauge
llm_d_epp_ready_endpoints{name="pool-a"} 2
# HELP llm_d_epp_std_dev_kv_cache_utilization [ALPHA] Population standard deviation of KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics.
# TYPE llm_d_epp_std_dev_kv_cache_utilization gauge
llm_d_epp_std_dev_kv_cache_utilization{name="pool-a"} 0.125
# HELP llm_d_epp_std_dev_queue_size [ALPHA] Population standard deviation of the model servers' waiting queues over endpoints with fresh metrics.
# TYPE llm_d_epp_std_dev_queue_size gauge
llm_d_epp_std_dev_queue_size{name="pool-a"} 2
# HELP llm_d_epp_std_dev_running_requests [ALPHA] Population standard deviation of the model servers' running batches over endpoints with fresh metrics.
# TYPE llm_d_epp_std_dev_running_requests gauge
llm_d_epp_std_dev_running_requests{name="pool-a"} 1.5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
