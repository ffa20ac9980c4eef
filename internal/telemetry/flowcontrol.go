package telemetry

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/admission"
)


// Flow-control label caps: fairness IDs are client-supplied, so at most
// [fairnessIDLimit] distinct values are exported (later ones are
// [OverflowModelName], "other"), and at most [flowSeriesLimit] label
// combinations per queue family (later ones fold their fairness ID and
// models into "other").
const (
	fairnessIDLimit = 100
	flowSeriesLimit = 100
)

// flowQueueBuckets are upstream's flow-control queue-duration buckets, in
// seconds.
var flowQueueBuckets = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// staleDetector is the detector label of the stale-endpoints gauge: the
// scraped-signal (utilization) detector, as upstream names its default.
const staleDetector = "utilization-detector"

// FlowMetrics exports llm-d's flow-control families
// (llm_d_epp_flow_control_*) from the events of the pools' queues; it
// implements [admission.Observer]. Safe for concurrent use.
type FlowMetrics struct {
	models *modelCap

	queueSize     *prometheus.GaugeVec
	queueBytes    *prometheus.GaugeVec
	saturation    *prometheus.GaugeVec
	queueDuration *prometheus.HistogramVec
	requests      *prometheus.CounterVec
	stale         prometheus.Gauge

	mu         sync.Mutex
	fairness   map[string]struct{}  // fairness IDs holding a slot
	series     map[[5]string]string // label combinations holding a slot
	stalePools map[string]int       // stale endpoints by pool
}

var _ admission.Observer = (*FlowMetrics)(nil)

// NewFlowMetrics registers the flow-control families on reg (nil leaves
// them unregistered). Model labels share m's caps and pins; a nil m caps
// them on their own with the default limits.
func NewFlowMetrics(reg prometheus.Registerer, m *Metrics) *FlowMetrics {
	f := &FlowMetrics{
		fairness:   make(map[string]struct{}),
		series:     make(map[[5]string]string),
		stalePools: make(map[string]int),
	}
	if m != nil {
		f.models = m.models
	} else {
		f.models = newModelCap(defaultModelNameLimit, comboBudget, defaultFairnessLimit)
	}
	queueLabels := []string{"fairness_id", "priority", "inference_pool", "model_name", "target_model_name"}
	f.queueSize = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: llmdPrefix + "flow_control_queue_size",
		Help: alpha("Requests waiting in the gateway's flow-control queues."),
	}, queueLabels)
	f.queueBytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: llmdPrefix + "flow_control_queue_bytes",
		Help: alpha("Body bytes of the requests waiting in the gateway's flow-control queues."),
	}, queueLabels)
	f.saturation = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: llmdPrefix + "flow_control_pool_saturation",
		Help: alpha("Pool saturation read by flow control, queued demand included and not capped: dispatch stops at 1, and values above 1 measure demand beyond capacity (an autoscaling target). An empty pool reads 1."),
	}, []string{"inference_pool"})
	f.queueDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    llmdPrefix + "flow_control_request_queue_duration_seconds",
		Help:    alpha("Time requests spent in flow control, from arrival to their outcome, in seconds."),
		Buckets: flowQueueBuckets,
	}, []string{"fairness_id", "priority", "outcome", "inference_pool", "model_name", "target_model_name"})
	f.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: llmdPrefix + "flow_control_requests_total",
		Help: alpha("Requests that passed through flow control, by outcome."),
	}, []string{"outcome", "priority", "inference_pool"})
	staleVec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: llmdPrefix + "flow_control_stale_endpoints",
		Help: alpha("Endpoints whose metrics are missing or older than the staleness window at the latest saturation reading, summed over pools; flow control counts them as full."),
	}, []string{"detector"})
	f.stale = staleVec.WithLabelValues(staleDetector)
	if reg != nil {
		reg.MustRegister(f.queueSize, f.queueBytes, f.saturation, f.queueDuration, f.requests, staleVec)
	}
	return f
}

// labels returns the capped (fairness_id, priority, pool, model, target)
// label values of a request.
func (f *FlowMetrics) labels(pool string, it admission.Item) (fairness, priority, model, target string) {
	model, target = f.models.label(orUnknownModel(it.Model)), f.models.label(it.TargetModel)
	priority = strconv.Itoa(it.Priority)
	f.mu.Lock()
	defer f.mu.Unlock()
	fairness = it.FairnessID
	if _, ok := f.fairness[fairness]; !ok {
		if len(f.fairness) >= fairnessIDLimit || !labelSafe(fairness) {
			fairness = OverflowModelName
		} else {
			f.fairness[fairness] = struct{}{}
		}
	}
	key := [5]string{fairness, priority, pool, model, target}
	if _, ok := f.series[key]; ok {
		return fairness, priority, model, target
	}
	if len(f.series) < flowSeriesLimit {
		f.series[key] = ""
		return fairness, priority, model, target
	}
	return OverflowModelName, priority, OverflowModelName, OverflowModelName
}

// orUnknownModel returns the model label of a request that named none.
func orUnknownModel(m string) string {
	if m == "" {
		return UnknownModelName
	}
	return m
}

// FlowQueued implements [admission.Observer].
func (f *FlowMetrics) FlowQueued(pool string, it admission.Item, delta int) {
	fair, prio, model, target := f.labels(pool, it)
	f.queueSize.WithLabelValues(fair, prio, pool, model, target).Add(float64(delta))
	f.queueBytes.WithLabelValues(fair, prio, pool, model, target).Add(float64(int64(delta) * it.Bytes))
}

// FlowOutcome implements [admission.Observer].
func (f *FlowMetrics) FlowOutcome(pool string, it admission.Item, o admission.Outcome, waited time.Duration) {
	fair, prio, model, target := f.labels(pool, it)
	f.queueDuration.WithLabelValues(fair, prio, string(o), pool, model, target).Observe(waited.Seconds())
	f.requests.WithLabelValues(string(o), prio, pool).Inc()
}

// FlowSaturation implements [admission.Observer].
func (f *FlowMetrics) FlowSaturation(pool string, saturation float64, stale int) {
	f.saturation.WithLabelValues(pool).Set(saturation)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stalePools[pool] == stale {
		return
	}
	f.stalePools[pool] = stale
	total := 0
	for _, n := range f.stalePools {
		total += n
	}
	f.stale.Set(float64(total))
}

// ForgetPool drops a pool that is no longer served: its saturation series
// and its share of the stale-endpoints gauge.
func (f *FlowMetrics) ForgetPool(pool string) {
	f.saturation.DeleteLabelValues(pool)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.stalePools, pool)
	total := 0
	for _, n := range f.stalePools {
		total += n
	}
	f.stale.Set(float64(total))
}
