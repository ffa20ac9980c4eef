package telemetry

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
)

// poolCollector reports the pool gauges of one pool (inference_pool_* and
// their llm_d_epp_* twins), computed from the store's current snapshot at
// scrape time.
type poolCollector struct {
	store     *pool.Store
	staleness time.Duration
	now       func() time.Time
	sets      []poolDescs
}

// poolDescs is one name set's descriptors; the std-dev ones exist only in
// the llm-d set.
type poolDescs struct {
	kvCache, queue, running, ready, perEndpointQueue *prometheus.Desc
	kvStdDev, queueStdDev, runningStdDev             *prometheus.Desc
}

// NewPoolCollector returns a collector for the pool gauges of store's pool,
// labelled name=<pool name>, under the names of sets (the zero value means
// every set; the legacy set has no pool families). Register one per pool.
//
// Only endpoints with fresh metrics count: scraped within staleness of now()
// (staleness <= 0 means any scraped endpoint is fresh). ready_pods
// (llm_d_epp_ready_endpoints) is their number;
// average_kv_cache_utilization (0 to 1), average_queue_size and
// average_running_requests are the means over them of the engine's KV-cache
// usage, waiting queue and running batch, the llm_d_epp_std_dev_* gauges
// their population standard deviations; all are 0 when no endpoint is
// fresh. per_pod_queue_size (llm_d_epp_per_endpoint_queue_size) has one
// series per fresh endpoint, labelled model_server_pod
// (model_server_endpoint) = <endpoint name> (its address when the name is
// empty or taken). Stale endpoints are left out rather than reported with
// old values. A nil now means time.Now. Collect is O(endpoints) and takes no
// locks.
func NewPoolCollector(store *pool.Store, staleness time.Duration, now func() time.Time, sets NameSets) prometheus.Collector {
	if now == nil {
		now = time.Now
	}
	sets = sets.orAll()
	constLabels := prometheus.Labels{"name": store.Name()}
	c := &poolCollector{store: store, staleness: staleness, now: now}
	if sets.LLMD {
		desc := func(name, help string, labels ...string) *prometheus.Desc {
			return prometheus.NewDesc(llmdPrefix+name, alpha(help), labels, constLabels)
		}
		c.sets = append(c.sets, poolDescs{
			kvCache:          desc("average_kv_cache_utilization", kvHelp),
			queue:            desc("average_queue_size", queueHelp),
			running:          desc("average_running_requests", runningHelp),
			ready:            desc("ready_endpoints", readyHelp),
			perEndpointQueue: desc("per_endpoint_queue_size", perEndpointHelp, "model_server_endpoint"),
			kvStdDev: desc("std_dev_kv_cache_utilization",
				"Population standard deviation of KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics."),
			queueStdDev: desc("std_dev_queue_size",
				"Population standard deviation of the model servers' waiting queues over endpoints with fresh metrics."),
			runningStdDev: desc("std_dev_running_requests",
				"Population standard deviation of the model servers' running batches over endpoints with fresh metrics."),
		})
	}
	if sets.GIE {
		desc := func(name, successor, help string, labels ...string) *prometheus.Desc {
			return prometheus.NewDesc(poolPrefix+name, alpha(deprecated(llmdPrefix+successor, help)), labels, constLabels)
		}
		c.sets = append(c.sets, poolDescs{
			kvCache:          desc("average_kv_cache_utilization", "average_kv_cache_utilization", kvHelp),
			queue:            desc("average_queue_size", "average_queue_size", queueHelp),
			running:          desc("average_running_requests", "average_running_requests", runningHelp),
			ready:            desc("ready_pods", "ready_endpoints", readyHelp),
			perEndpointQueue: desc("per_pod_queue_size", "per_endpoint_queue_size", perEndpointHelp, "model_server_pod"),
		})
	}
	return c
}

// HELP texts shared by the pool families of both name sets.
const (
	kvHelp          = "Mean KV-cache utilization (0 to 1) over the pool's endpoints with fresh metrics."
	queueHelp       = "Mean number of requests waiting in the model servers' queues over endpoints with fresh metrics."
	runningHelp     = "Mean number of requests in the model servers' running batches over endpoints with fresh metrics."
	readyHelp       = "Number of the pool's endpoints with fresh metrics."
	perEndpointHelp = "Number of requests waiting in one model server's queue."
)

// Describe implements [prometheus.Collector].
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.sets {
		for _, desc := range []*prometheus.Desc{d.kvCache, d.queue, d.running, d.ready, d.perEndpointQueue,
			d.kvStdDev, d.queueStdDev, d.runningStdDev} {
			if desc != nil {
				ch <- desc
			}
		}
	}
}

// Collect implements [prometheus.Collector].
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	var (
		fresh                    int
		kv, queue, running       float64
		kvSq, queueSq, runningSq float64
		used                     map[string]struct{}
	)
	for _, ep := range c.store.Load().Endpoints() {
		m := ep.Metrics()
		if m == nil || (c.staleness > 0 && now.Sub(m.ScrapedAt) > c.staleness) {
			continue
		}
		fresh++
		q, r := float64(m.WaitingQueue), float64(m.Running)
		kv += m.KVCacheUsage
		queue += q
		running += r
		kvSq += m.KVCacheUsage * m.KVCacheUsage
		queueSq += q * q
		runningSq += r * r

		if used == nil {
			used = make(map[string]struct{})
		}
		label := ep.Name()
		if _, taken := used[label]; taken || label == "" {
			label = ep.Address()
		}
		if _, taken := used[label]; taken {
			continue // Two endpoints share name and address: report the first only.
		}
		used[label] = struct{}{}
		for _, d := range c.sets {
			ch <- prometheus.MustNewConstMetric(d.perEndpointQueue, prometheus.GaugeValue, q, label)
		}
	}
	var kvSD, queueSD, runningSD float64
	if fresh > 0 {
		n := float64(fresh)
		kv, queue, running = kv/n, queue/n, running/n
		kvSD, queueSD, runningSD = stdDev(kvSq/n, kv), stdDev(queueSq/n, queue), stdDev(runningSq/n, running)
	}
	for _, d := range c.sets {
		ch <- prometheus.MustNewConstMetric(d.kvCache, prometheus.GaugeValue, kv)
		ch <- prometheus.MustNewConstMetric(d.queue, prometheus.GaugeValue, queue)
		ch <- prometheus.MustNewConstMetric(d.running, prometheus.GaugeValue, running)
		ch <- prometheus.MustNewConstMetric(d.ready, prometheus.GaugeValue, float64(fresh))
		if d.kvStdDev != nil {
			ch <- prometheus.MustNewConstMetric(d.kvStdDev, prometheus.GaugeValue, kvSD)
			ch <- prometheus.MustNewConstMetric(d.queueStdDev, prometheus.GaugeValue, queueSD)
			ch <- prometheus.MustNewConstMetric(d.runningStdDev, prometheus.GaugeValue, runningSD)
		}
	}
}

// stdDev is the population standard deviation from the mean of the squares
// and the mean, never NaN from rounding.
func stdDev(meanSq, mean float64) float64 {
	return math.Sqrt(max(meanSq-mean*mean, 0))
}
