package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
)

// poolCollector reports the inference_pool_* gauges of one pool, computed
// from the store's current snapshot at scrape time.
type poolCollector struct {
	store     *pool.Store
	staleness time.Duration
	now       func() time.Time

	kvCache, queue, running, ready, perPodQueue *prometheus.Desc
}

// NewPoolCollector returns a collector for the inference_pool_* gauges of
// store's pool, labelled name=<pool name>. Register one per pool.
//
// Only endpoints with fresh metrics count: scraped within staleness of now()
// (staleness <= 0 means any scraped endpoint is fresh). ready_pods is their
// number; average_kv_cache_utilization (0 to 1), average_queue_size and
// average_running_requests are the means over them of the engine's KV-cache
// usage, waiting queue and running batch, and are 0 when no endpoint is
// fresh. per_pod_queue_size has one series per fresh endpoint, labelled
// model_server_pod=<endpoint name> (its address when the name is empty or
// taken). Stale endpoints are left out rather than reported with old values.
// A nil now means time.Now. Collect is O(endpoints) and takes no locks.
func NewPoolCollector(store *pool.Store, staleness time.Duration, now func() time.Time) prometheus.Collector {
	if now == nil {
		now = time.Now
	}
	constLabels := prometheus.Labels{"name": store.Name()}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(poolPrefix+name, alpha(help), labels, constLabels)
	}
	return &poolCollector{
		store:     store,
		staleness: staleness,
		now:       now,
		kvCache: desc("average_kv_cache_utilization",
			"Mean KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics."),
		queue: desc("average_queue_size",
			"Mean number of requests waiting in the model servers' queues over endpoints with fresh metrics."),
		running: desc("average_running_requests",
			"Mean number of requests in the model servers' running batches over endpoints with fresh metrics."),
		ready: desc("ready_pods",
			"Number of the pool's endpoints with fresh metrics."),
		perPodQueue: desc("per_pod_queue_size",
			"Number of requests waiting in one model server's queue.", "model_server_pod"),
	}
}

// Describe implements [prometheus.Collector].
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.kvCache
	ch <- c.queue
	ch <- c.running
	ch <- c.ready
	ch <- c.perPodQueue
}

// Collect implements [prometheus.Collector].
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	var (
		fresh              int
		kv, queue, running float64
		used               map[string]struct{}
	)
	for _, ep := range c.store.Load().Endpoints() {
		m := ep.Metrics()
		if m == nil || (c.staleness > 0 && now.Sub(m.ScrapedAt) > c.staleness) {
			continue
		}
		fresh++
		kv += m.KVCacheUsage
		queue += float64(m.WaitingQueue)
		running += float64(m.Running)

		if used == nil {
			used = make(map[string]struct{})
		}
		podLabel := ep.Name()
		if _, taken := used[podLabel]; taken || podLabel == "" {
			podLabel = ep.Address()
		}
		if _, taken := used[podLabel]; taken {
			continue // Two endpoints share name and address: report the first only.
		}
		used[podLabel] = struct{}{}
		ch <- prometheus.MustNewConstMetric(c.perPodQueue, prometheus.GaugeValue, float64(m.WaitingQueue), podLabel)
	}
	if fresh > 0 {
		n := float64(fresh)
		kv, queue, running = kv/n, queue/n, running/n
	}
	ch <- prometheus.MustNewConstMetric(c.kvCache, prometheus.GaugeValue, kv)
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, queue)
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, running)
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, float64(fresh))
}
