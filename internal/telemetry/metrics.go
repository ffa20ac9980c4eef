package telemetry

import (
	"github.com/infergate/infergate/internal/exchange"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// Metric name prefixes.
const (
	objectivePrefix = "inference_objective_"
	legacyPrefix    = "inference_model_"
	extensionPrefix = "inference_extension_"
	poolPrefix      = "inference_pool_"
)

// alpha prefixes a HELP string the way upstream marks its stability level.
func alpha(help string) string { return "[ALPHA] " + help }

// Options configures [NewMetrics].
type Options struct {
	// LegacyNames also emits every inference_objective_* family under its
	// pre-v1.1 name inference_model_*, for dashboards that still query the old
	// names. The config turns it on by default.
	LegacyNames bool
	// ModelNameLimit is the maximum number of distinct client-derived
	// values of the model_name and target_model_name labels, counted
	// together; names pinned with [Metrics.PinModels] do not count. Later
	// new names are recorded as [OverflowModelName]. Zero or negative means
	// 1000, as upstream.
	ModelNameLimit int
	// ModelPairLimit is the maximum number of distinct (model_name,
	// target_model_name) pairs other than the pinned models' natural pairs;
	// past it a pair is recorded with [OverflowModelName] as its target (and
	// as its model unless that is pinned). Zero or negative means 1000.
	ModelPairLimit int
	// Plugins are the scheduler plugins whose
	// inference_extension_plugin_duration_seconds series are created up
	// front, normally [scheduler.Config.Plugins] of the gateway's scheduler
	// configuration; nil means every plugin. Each series is resolved once,
	// so observing allocates nothing; observations of plugins not listed
	// are dropped.
	Plugins []scheduler.Plugin
	// Commit and BuildRef are the labels of inference_extension_info. Empty
	// values are reported as "unknown".
	Commit, BuildRef string
	// Now is the clock that ages pinned model names; nil means time.Now.
	Now func() time.Time
}

// RequestObservation is everything known about one finished request: the
// exchange's [exchange.Record], which [Metrics.ObserveRequest] takes so that
// Metrics implements [exchange.Observer].
type RequestObservation = exchange.Record

// Metrics records the gateway's request, scheduler and prefix-cache metrics.
// All methods are safe for concurrent use. A nil *Metrics discards every
// observation, which is convenient in tests.
type Metrics struct {
	models *modelCap
	// objectives holds the inference_objective_* families, then the legacy
	// inference_model_* copies when enabled.
	objectives []*objectiveFamilies

	scheduleDuration prometheus.Histogram
	scheduleAttempts *prometheus.CounterVec
	pluginDuration   *prometheus.HistogramVec
	// plugins are pluginDuration's children, resolved once per plugin in
	// Options.Plugins (nil for the others) so observing allocates nothing.
	plugins        [scheduler.NumPlugins]prometheus.Observer
	prefixSize     prometheus.Gauge
	prefixHitRatio prometheus.Histogram
	prefixHitBytes prometheus.Histogram
	panics         *prometheus.CounterVec
	now            func() time.Time
}

// NewMetrics creates the gateway's metric families and registers them with
// reg; a nil reg leaves them unregistered. It panics if a family is already
// registered, which is a wiring bug.
func NewMetrics(reg prometheus.Registerer, opts Options) *Metrics {
	limit, pairLimit := opts.ModelNameLimit, opts.ModelPairLimit
	if limit <= 0 {
		limit = defaultModelNameLimit
	}
	if pairLimit <= 0 {
		pairLimit = defaultModelPairLimit
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		models: newModelCap(limit, pairLimit),
		now:    now,
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_panics_recovered_total",
			Help: "Panics recovered in request handlers, by component; each one is a bug worth reporting.",
		}, []string{"component"}),
		objectives: []*objectiveFamilies{newObjectiveFamilies(objectivePrefix, "")},
		scheduleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    extensionPrefix + "scheduler_e2e_duration_seconds",
			Help:    alpha("Time the scheduler took to pick an endpoint for a request, in seconds."),
			Buckets: schedulerBuckets,
		}),
		scheduleAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: extensionPrefix + "scheduler_attempts_total",
			Help: alpha("Scheduling attempts by outcome and chosen endpoint."),
		}, []string{"status", "target_model_name", "pod_name", "endpoint_namespace", "port"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    extensionPrefix + "plugin_duration_seconds",
			Help:    alpha("Time spent in one scheduling or request-control plugin, in seconds."),
			Buckets: schedulerBuckets,
		}, []string{"extension_point", "plugin_type", "plugin_name"}),
		prefixSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: extensionPrefix + "prefix_indexer_size",
			Help: alpha("Number of entries in the prefix-cache index."),
		}),
		prefixHitRatio: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    extensionPrefix + "prefix_indexer_hit_ratio",
			Help:    alpha("Fraction of a request's prefix found in the prefix-cache index, from 0 to 1."),
			Buckets: hitRatioBuckets,
		}),
		prefixHitBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    extensionPrefix + "prefix_indexer_hit_bytes",
			Help:    alpha("Length of the prefix found in the prefix-cache index, in bytes."),
			Buckets: hitBytesBuckets,
		}),
	}
	plugins := opts.Plugins
	if plugins == nil {
		for p := range scheduler.NumPlugins {
			plugins = append(plugins, p)
		}
	}
	for _, p := range plugins {
		if p < scheduler.NumPlugins {
			info := p.Info()
			m.plugins[p] = m.pluginDuration.WithLabelValues(info.ExtensionPoint, info.Type, info.Name)
		}
	}
	if opts.LegacyNames {
		m.objectives = append(m.objectives, newObjectiveFamilies(legacyPrefix, objectivePrefix))
	}
	if reg == nil {
		return m
	}
	for _, f := range m.objectives {
		f.register(reg)
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        extensionPrefix + "info",
		Help:        alpha("Build information of the gateway; always 1."),
		ConstLabels: prometheus.Labels{"commit": orUnknown(opts.Commit), "build_ref": orUnknown(opts.BuildRef)},
	})
	info.Set(1)
	reg.MustRegister(info, m.scheduleDuration, m.scheduleAttempts, m.pluginDuration,
		m.prefixSize, m.prefixHitRatio, m.prefixHitBytes, m.panics)
	return m
}

// orUnknown returns s, or "unknown" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ObserveRequest records one finished request. Call it exactly once per
// request, failed ones included.
//
// Every request increments request_total, so error_total/request_total never
// exceeds 1 (upstream counts only requests that were scheduled). A failed
// request also increments request_error_total and, when known, request_sizes;
// duration, response size, token, TTFT, TPOT and normalized-TPOT histograms
// describe successful requests only, so fast rejections do not pull latency
// quantiles down.
func (m *Metrics) ObserveRequest(o RequestObservation) {
	if m == nil {
		return
	}
	model, target := m.models.pair(o.Model, o.TargetModel)
	code := o.ErrorCode
	if code != "" && !knownErrorCode(code) {
		code = ErrorUnknown
	}
	priority := strconv.Itoa(o.Priority)
	for _, f := range m.objectives {
		f.observe(o, model, target, code, priority)
	}
}

// RunningAdd adds delta (normally +1 or -1) to running_requests for model.
func (m *Metrics) RunningAdd(model string, delta int) {
	if m == nil {
		return
	}
	label := m.models.label(model)
	for _, f := range m.objectives {
		f.running.WithLabelValues(label).Add(float64(delta))
	}
}

// ObserveSchedule records one scheduling attempt: its duration and its
// outcome. On failure, endpointName, endpointNamespace and port are normally
// empty. endpointName becomes the pod_name label, endpointNamespace the
// endpoint_namespace label. With ObservePrefix it implements
// [router.ScheduleObserver].
func (m *Metrics) ObserveSchedule(d time.Duration, success bool, targetModel, endpointName, endpointNamespace, port string) {
	if m == nil {
		return
	}
	status := "failure"
	if success {
		status = "success"
	}
	m.scheduleDuration.Observe(d.Seconds())
	m.scheduleAttempts.WithLabelValues(status, m.models.label(targetModel), endpointName, endpointNamespace, port).Inc()
}

var _ scheduler.PluginObserver = (*Metrics)(nil)

var _ router.ScheduleObserver = (*Metrics)(nil)

// ObservePlugin records the time one scheduler plugin took in one pick, in
// inference_extension_plugin_duration_seconds labelled with p's extension
// point ("Filter", "Scorer" or "Picker"), type and name. It implements
// [scheduler.PluginObserver] and allocates nothing. Plugins not in
// Options.Plugins are not recorded.
func (m *Metrics) ObservePlugin(p scheduler.Plugin, d time.Duration) {
	if m == nil || p >= scheduler.NumPlugins || m.plugins[p] == nil {
		return
	}
	m.plugins[p].Observe(d.Seconds())
}

// ObservePrefix records one prefix-cache lookup: the matched fraction of the
// prompt (0 to 1) and the matched length in bytes.
func (m *Metrics) ObservePrefix(hitRatio float64, hitBytes int) {
	if m == nil {
		return
	}
	m.prefixHitRatio.Observe(hitRatio)
	m.prefixHitBytes.Observe(float64(hitBytes))
}

// SetPrefixIndexSize reports the number of entries in the prefix-cache index.
func (m *Metrics) SetPrefixIndexSize(n int) {
	if m == nil {
		return
	}
	m.prefixSize.Set(float64(n))
}

// PinModels pins models (the configured models with their targets, and the
// models the replicas list) so they and their natural pairs always keep
// their own label values outside the client-derived caps. Call it whenever
// the set may have changed; a name missing from every call for 10 minutes is
// unpinned and its series are deleted, so /metrics forgets models that left
// the config and the replicas.
func (m *Metrics) PinModels(models []PinnedModel) {
	if m == nil {
		return
	}
	for _, n := range m.models.pin(models, m.now()) {
		m.deleteModel(n)
	}
}

// deleteModel removes every series labelled with model name n.
func (m *Metrics) deleteModel(n string) {
	for _, f := range m.objectives {
		f.deleteModel(n)
	}
	m.scheduleAttempts.DeletePartialMatch(prometheus.Labels{"target_model_name": n})
}

// PanicRecovered counts one panic recovered in component (a fixed name such
// as "proxy" or "admin", never client input).
func (m *Metrics) PanicRecovered(component string) {
	if m == nil {
		return
	}
	m.panics.WithLabelValues(component).Inc()
}
