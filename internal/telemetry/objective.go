package telemetry

import "github.com/prometheus/client_golang/prometheus"

// objectiveFamilies is one set of per-objective request families under one
// name prefix (inference_objective_ or the legacy inference_model_).
type objectiveFamilies struct {
	requests     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	running      *prometheus.GaugeVec
	duration     *prometheus.HistogramVec
	requestSize  *prometheus.HistogramVec
	responseSize *prometheus.HistogramVec
	inputTokens  *prometheus.HistogramVec
	outputTokens *prometheus.HistogramVec
	cachedTokens *prometheus.HistogramVec
	ntpot        *prometheus.HistogramVec
	ttft         *prometheus.HistogramVec
	tpot         *prometheus.HistogramVec
}

// llmdSuccessor maps each per-objective family suffix to the llm_d_epp_*
// family that replaces it upstream (llm-d router v0.10), for the
// deprecation marker in HELP.
var llmdSuccessor = map[string]string{
	"request_total":                            llmdPrefix + "request_total",
	"request_error_total":                      llmdPrefix + "request_error_total",
	"running_requests":                         llmdPrefix + "request_running",
	"request_duration_seconds":                 llmdPrefix + "request_duration_seconds",
	"request_sizes":                            llmdPrefix + "request_size_bytes",
	"response_sizes":                           llmdPrefix + "response_size_bytes",
	"input_tokens":                             llmdPrefix + "request_input_tokens",
	"output_tokens":                            llmdPrefix + "request_output_tokens",
	"prompt_cached_tokens":                     llmdPrefix + "request_cached_tokens",
	"normalized_time_per_output_token_seconds": llmdPrefix + "request_ntpot_seconds",
	"request_ttft_seconds":                     llmdPrefix + "request_ttft_seconds",
	"request_tpot_seconds":                     llmdPrefix + "request_streaming_tpot_seconds",
}

// deprecated prefixes text with upstream's deprecation marker naming the
// replacing family.
func deprecated(successor, text string) string {
	return "[Deprecated: Use " + successor + "] " + text
}

// newObjectiveFamilies builds the families named prefix+suffix. HELP carries
// upstream's marker naming the llm_d_epp_* successor; when currentPrefix is
// set, the families are legacy copies and their HELP also says which GIE
// name replaced them.
func newObjectiveFamilies(prefix, currentPrefix string) *objectiveFamilies {
	modelLabels := []string{"model_name", "target_model_name"}
	help := func(name, text string) string {
		if currentPrefix != "" {
			text += " Deprecated name, use " + currentPrefix + name + "."
		}
		return alpha(deprecated(llmdSuccessor[name], text))
	}
	counter := func(name, text string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + name, Help: help(name, text)}, labels)
	}
	histogram := func(name, text string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: prefix + name, Help: help(name, text), Buckets: buckets,
		}, modelLabels)
	}
	return &objectiveFamilies{
		requests: counter("request_total",
			"Inference requests received, failed ones included.",
			"model_name", "target_model_name", "priority"),
		errors: counter("request_error_total",
			"Inference requests that failed, by error code.",
			"model_name", "target_model_name", "error_code"),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: prefix + "running_requests",
			Help: help("running_requests", "Inference requests currently being served."),
		}, []string{"model_name"}),
		duration: histogram("request_duration_seconds",
			"End-to-end latency of successful inference requests, in seconds.", generalLatencyBuckets),
		requestSize: histogram("request_sizes",
			"Size of inference request bodies, in bytes.", requestSizeBuckets),
		responseSize: histogram("response_sizes",
			"Size of successful inference response bodies, in bytes.", responseSizeBuckets),
		inputTokens: histogram("input_tokens",
			"Prompt tokens per successful inference request.", inputTokenBuckets),
		outputTokens: histogram("output_tokens",
			"Generated tokens per successful inference request.", outputTokenBuckets),
		cachedTokens: histogram("prompt_cached_tokens",
			"Prompt tokens served from the model server's prefix cache, per successful request.", inputTokenBuckets),
		ntpot: histogram("normalized_time_per_output_token_seconds",
			"Request latency divided by generated tokens, in seconds.", ntpotBuckets),
		ttft: histogram("request_ttft_seconds",
			"Time to first token of successful inference requests, in seconds.", generalLatencyBuckets),
		tpot: histogram("request_tpot_seconds",
			"Mean time between output tokens after the first, in seconds.", tpotBuckets),
	}
}

// register adds every family to reg, panicking on a duplicate.
func (f *objectiveFamilies) register(reg prometheus.Registerer) {
	reg.MustRegister(f.requests, f.errors, f.running, f.duration, f.requestSize, f.responseSize,
		f.inputTokens, f.outputTokens, f.cachedTokens, f.ntpot, f.ttft, f.tpot)
}

// observe records o with already-capped label values; see
// [Metrics.ObserveRequest] for what is observed when.
func (f *objectiveFamilies) observe(o RequestObservation, model, target, code, priority string) {
	f.requests.WithLabelValues(model, target, priority).Inc()
	if o.RequestBytes > 0 {
		f.requestSize.WithLabelValues(model, target).Observe(float64(o.RequestBytes))
	}
	if code != "" {
		f.errors.WithLabelValues(model, target, code).Inc()
		return
	}
	if o.Duration > 0 {
		f.duration.WithLabelValues(model, target).Observe(o.Duration.Seconds())
	}
	if o.ResponseBytes >= 0 {
		f.responseSize.WithLabelValues(model, target).Observe(float64(o.ResponseBytes))
	}
	if o.InputTokens > 0 {
		f.inputTokens.WithLabelValues(model, target).Observe(float64(o.InputTokens))
	}
	if o.OutputTokens > 0 {
		f.outputTokens.WithLabelValues(model, target).Observe(float64(o.OutputTokens))
		if o.Duration > 0 {
			f.ntpot.WithLabelValues(model, target).Observe(o.Duration.Seconds() / float64(o.OutputTokens))
		}
	}
	if o.CachedTokens > 0 {
		f.cachedTokens.WithLabelValues(model, target).Observe(float64(o.CachedTokens))
	}
	if o.TTFT > 0 {
		f.ttft.WithLabelValues(model, target).Observe(o.TTFT.Seconds())
	}
	if o.TPOT > 0 {
		f.tpot.WithLabelValues(model, target).Observe(o.TPOT.Seconds())
	}
}

// deleteModel removes every series whose model_name or target_model_name is n.
func (f *objectiveFamilies) deleteModel(n string) {
	vecs := []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{f.requests, f.errors, f.duration, f.requestSize, f.responseSize, f.inputTokens,
		f.outputTokens, f.cachedTokens, f.ntpot, f.ttft, f.tpot}
	for _, v := range vecs {
		v.DeletePartialMatch(prometheus.Labels{"model_name": n})
		v.DeletePartialMatch(prometheus.Labels{"target_model_name": n})
	}
	f.running.DeletePartialMatch(prometheus.Labels{"model_name": n})
}
