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
	llmdPrefix      = "llm_d_epp_"
	objectivePrefix = "inference_objective_"
	legacyPrefix    = "inference_model_"
	extensionPrefix = "inference_extension_"
	poolPrefix      = "inference_pool_"
)

// alpha prefixes a HELP string the way upstream marks its stability level.
func alpha(help string) string { return "[ALPHA] " + help }

// Options configures [NewMetrics].
type Options struct {
	// NameSets selects the names the families are emitted under; the zero
	// value means every set.
	NameSets NameSets
	// ModelNameLimit is the maximum number of distinct client-derived
	// values of the model_name and target_model_name labels, counted
	// together; names pinned with [Metrics.PinModels] do not count. Later
	// new names are recorded as [OverflowModelName]. Zero or negative means
	// 1000, as upstream.
	ModelNameLimit int
	// ModelPairLimit is the maximum number of distinct (model_name,
	// target_model_name, fairness_id, priority) combinations, shared by
	// every name set; past it a combination is folded as [modelCap]
	// describes. Zero or negative means [DefaultModelPairLimit] of the
	// enabled sets.
	ModelPairLimit int
	// FairnessIDLimit is the maximum number of distinct fairness_id values;
	// later new IDs are recorded as [OverflowModelName]. Zero or negative
	// means 100.
	FairnessIDLimit int
	// Plugins are the scheduler plugins whose plugin_duration_seconds
	// series are created up front, normally [scheduler.Config.Plugins] of
	// the gateway's scheduler configuration; nil means every plugin. Each
	// series is resolved once, so observing allocates nothing; observations
	// of plugins not listed are dropped.
	Plugins []scheduler.Plugin
	// Commit and BuildRef are the labels of the info gauges. Empty values
	// are reported as "unknown".
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
	// inference_model_* copies, as enabled.
	objectives []*objectiveFamilies
	// llmd holds the llm_d_epp_* request families; nil when off.
	llmd *llmdFamilies
	// extensions holds the gateway-internal families of each enabled set
	// (inference_extension_*, llm_d_epp_*).
	extensions []*extensionFamilies
	// requestProcessing and responseProcessing are llm-d's picker-overhead
	// histograms; nil when the llm-d set is off.
	requestProcessing, responseProcessing prometheus.Histogram

	// decisions is infergate_extproc_decision_duration_seconds.
	decisions prometheus.Histogram

	panics *prometheus.CounterVec
	now    func() time.Time
}

// NewMetrics creates the gateway's metric families and registers them with
// reg; a nil reg leaves them unregistered. It panics if a family is already
// registered, which is a wiring bug.
func NewMetrics(reg prometheus.Registerer, opts Options) *Metrics {
	limit, pairLimit, fairLimit := opts.ModelNameLimit, opts.ModelPairLimit, opts.FairnessIDLimit
	if limit <= 0 {
		limit = defaultModelNameLimit
	}
	sets := opts.NameSets.orAll()
	if pairLimit <= 0 {
		pairLimit = DefaultModelPairLimit(sets.count())
	}
	if fairLimit <= 0 {
		fairLimit = defaultFairnessLimit
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	plugins := opts.Plugins
	if plugins == nil {
		for p := range scheduler.NumPlugins {
			plugins = append(plugins, p)
		}
	}
	m := &Metrics{
		models:    newModelCap(limit, pairLimit, fairLimit),
		now:       now,
		decisions: newDecisionHistogram(),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_panics_recovered_total",
			Help: "Panics recovered in request handlers, by component; each one is a bug worth reporting.",
		}, []string{"component"}),
	}
	if sets.LLMD {
		m.llmd = newLLMDFamilies()
		m.extensions = append(m.extensions, newExtensionFamilies(llmdPrefix, true, plugins, opts.Commit, opts.BuildRef))
		m.requestProcessing = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    llmdPrefix + "request_processing_duration_seconds",
			Help:    alpha("The gateway's own time per request before forwarding it: receiving and parsing the body, admission and routing, in seconds."),
			Buckets: requestProcessingBuckets,
		})
		m.responseProcessing = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    llmdPrefix + "response_processing_duration_seconds",
			Help:    alpha("The gateway's own time per response spent handling its body chunks (usage and token timing), in seconds."),
			Buckets: responseProcessingBuckets,
		})
	}
	if sets.GIE {
		m.objectives = append(m.objectives, newObjectiveFamilies(objectivePrefix, ""))
		m.extensions = append(m.extensions, newExtensionFamilies(extensionPrefix, false, plugins, opts.Commit, opts.BuildRef))
	}
	if sets.Legacy {
		m.objectives = append(m.objectives, newObjectiveFamilies(legacyPrefix, objectivePrefix))
	}
	if reg == nil {
		return m
	}
	for _, f := range m.objectives {
		f.register(reg)
	}
	if m.llmd != nil {
		m.llmd.register(reg)
		reg.MustRegister(m.requestProcessing, m.responseProcessing)
	}
	for _, f := range m.extensions {
		f.register(reg)
	}
	reg.MustRegister(m.panics, m.decisions)
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
// request also increments request_error_total and, when known, the request
// size; duration, response size, token, TTFT, TPOT and normalized-TPOT
// histograms describe successful requests only, so fast rejections do not
// pull latency quantiles down. The llm-d picker-overhead histograms record
// every request that was routed.
func (m *Metrics) ObserveRequest(o RequestObservation) {
	if m == nil {
		return
	}
	k := m.models.key(o.Model, o.TargetModel, o.FairnessID, o.Priority)
	code := o.ErrorCode
	if code != "" && !knownErrorCode(code) {
		code = ErrorUnknown
	}
	priority := strconv.Itoa(o.Priority)
	for _, f := range m.objectives {
		f.observe(o, k.model, k.target, code, priority)
	}
	if m.llmd != nil {
		m.llmd.observe(o, k, code)
		if o.RequestProcessing > 0 {
			m.requestProcessing.Observe(o.RequestProcessing.Seconds())
		}
		if o.ResponseProcessing > 0 {
			m.responseProcessing.Observe(o.ResponseProcessing.Seconds())
		}
	}
}

// RunningAdd adds delta (normally +1 or -1) to the running-requests gauges
// of r's series.
func (m *Metrics) RunningAdd(r exchange.Running, delta int) {
	if m == nil {
		return
	}
	label := m.models.label(r.Model)
	for _, f := range m.objectives {
		f.running.WithLabelValues(label).Add(float64(delta))
	}
	if m.llmd != nil {
		k := m.models.key(r.Model, r.TargetModel, r.FairnessID, r.Priority)
		m.llmd.running.WithLabelValues(k.model, k.target, k.fairness, strconv.Itoa(k.priority)).Add(float64(delta))
	}
}

// StreamGaps returns the recorder of the time between consecutive
// token-carrying chunks of one stream (llm_d_epp_request_streaming_itl_seconds),
// labelled like r's other llm-d series; nil when the llm-d set is off. It
// implements [exchange.GapObserver].
func (m *Metrics) StreamGaps(r exchange.Running) func(time.Duration) {
	if m == nil || m.llmd == nil {
		return nil
	}
	k := m.models.key(r.Model, r.TargetModel, r.FairnessID, r.Priority)
	h := m.llmd.itl.WithLabelValues(k.model, k.target, k.fairness, strconv.Itoa(k.priority))
	return func(d time.Duration) { h.Observe(d.Seconds()) }
}

var _ exchange.GapObserver = (*Metrics)(nil)

// ObserveSchedule records one scheduling attempt: its duration and its
// outcome. On failure, endpointName, endpointNamespace and port are normally
// empty. endpointName becomes the pod_name label (endpoint_name in the
// llm-d set), endpointNamespace the endpoint_namespace label. With
// ObservePrefix it implements [router.ScheduleObserver].
func (m *Metrics) ObserveSchedule(d time.Duration, success bool, targetModel, endpointName, endpointNamespace, port string) {
	if m == nil {
		return
	}
	status := "failure"
	if success {
		status = "success"
	}
	target := m.models.label(targetModel)
	for _, f := range m.extensions {
		f.scheduleDuration.Observe(d.Seconds())
		f.scheduleAttempts.WithLabelValues(status, target, endpointName, endpointNamespace, port).Inc()
	}
}

var _ scheduler.PluginObserver = (*Metrics)(nil)

var _ router.ScheduleObserver = (*Metrics)(nil)

var _ exchange.Observer = (*Metrics)(nil)

// ObservePlugin records the time one scheduler plugin took in one pick, in
// plugin_duration_seconds labelled with p's extension point ("Filter",
// "Scorer" or "Picker"), type and name. It implements
// [scheduler.PluginObserver] and allocates nothing. Plugins not in
// Options.Plugins are not recorded.
func (m *Metrics) ObservePlugin(p scheduler.Plugin, d time.Duration) {
	if m == nil || p >= scheduler.NumPlugins {
		return
	}
	for _, f := range m.extensions {
		if o := f.plugins[p]; o != nil {
			o.Observe(d.Seconds())
		}
	}
}

// ObservePrefix records one prefix-cache lookup: the matched fraction of the
// prompt (0 to 1) and the matched length in bytes.
func (m *Metrics) ObservePrefix(hitRatio float64, hitBytes int) {
	if m == nil {
		return
	}
	for _, f := range m.extensions {
		f.prefixHitRatio.Observe(hitRatio)
		f.prefixHitBytes.Observe(float64(hitBytes))
	}
}

// SetPrefixIndexSize reports the number of entries in the prefix-cache index.
func (m *Metrics) SetPrefixIndexSize(n int) {
	if m == nil {
		return
	}
	for _, f := range m.extensions {
		f.prefixSize.Set(float64(n))
	}
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
	if m.llmd != nil {
		m.llmd.deleteModel(n)
	}
	for _, f := range m.extensions {
		f.scheduleAttempts.DeletePartialMatch(prometheus.Labels{"target_model_name": n})
	}
}

// PanicRecovered counts one panic recovered in component (a fixed name such
// as "proxy" or "admin", never client input).
func (m *Metrics) PanicRecovered(component string) {
	if m == nil {
		return
	}
	m.panics.WithLabelValues(component).Inc()
}
