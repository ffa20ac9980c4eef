package telemetry

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// llmdFamilies is the llm_d_epp_* request families of llm-d router v0.10:
// the per-objective ones under their new names, each labelled with the
// fairness ID and priority too.
type llmdFamilies struct {
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
	itl          *prometheus.HistogramVec
}

// newLLMDFamilies builds the llm_d_epp_* request families.
func newLLMDFamilies() *llmdFamilies {
	labels := []string{"model_name", "target_model_name", "fairness_id", "priority"}
	histogram := func(name, text string, buckets []float64, extra ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: llmdPrefix + name, Help: alpha(text), Buckets: buckets,
		}, append(append([]string(nil), labels...), extra...))
	}
	return &llmdFamilies{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: llmdPrefix + "request_total",
			Help: alpha("Inference requests received, failed ones included."),
		}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: llmdPrefix + "request_error_total",
			Help: alpha("Inference requests that failed, by error code."),
		}, append(append([]string(nil), labels...), "error_code")),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: llmdPrefix + "request_running",
			Help: alpha("Inference requests currently being served."),
		}, labels),
		duration: histogram("request_duration_seconds",
			"End-to-end latency of successful inference requests, in seconds.", generalLatencyBuckets),
		requestSize: histogram("request_size_bytes",
			"Size of inference request bodies, in bytes.", requestSizeBuckets),
		responseSize: histogram("response_size_bytes",
			"Size of successful inference response bodies, in bytes.", responseSizeBuckets),
		inputTokens: histogram("request_input_tokens",
			"Prompt tokens per successful inference request.", inputTokenBuckets),
		outputTokens: histogram("request_output_tokens",
			"Generated tokens per successful inference request.", outputTokenBuckets),
		cachedTokens: histogram("request_cached_tokens",
			"Prompt tokens the model server reported as read from its prefix cache, per successful request.", inputTokenBuckets),
		ntpot: histogram("request_ntpot_seconds",
			"Request latency divided by generated tokens, in seconds.", ntpotBuckets),
		ttft: histogram("request_ttft_seconds",
			"Time from receiving a successful request to its first token, in seconds; a response that is not streamed has its first token when it completes.",
			llmdTTFTBuckets, "streaming"),
		tpot: histogram("request_streaming_tpot_seconds",
			"Mean time between output tokens after the first of a streamed response, in seconds.", llmdTPOTBuckets),
		itl: histogram("request_streaming_itl_seconds",
			"Time between consecutive chunks of a streamed response that carry tokens, in seconds.", llmdITLBuckets),
	}
}

// register adds every family to reg, panicking on a duplicate.
func (f *llmdFamilies) register(reg prometheus.Registerer) {
	reg.MustRegister(f.requests, f.errors, f.running, f.duration, f.requestSize, f.responseSize,
		f.inputTokens, f.outputTokens, f.cachedTokens, f.ntpot, f.ttft, f.tpot, f.itl)
}

// observe records o under the capped combination k; code is the capped
// error code. What is observed when follows [Metrics.ObserveRequest].
func (f *llmdFamilies) observe(o RequestObservation, k comboKey, code string) {
	prio := strconv.Itoa(k.priority)
	f.requests.WithLabelValues(k.model, k.target, k.fairness, prio).Inc()
	if o.RequestBytes > 0 {
		f.requestSize.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(float64(o.RequestBytes))
	}
	if code != "" {
		f.errors.WithLabelValues(k.model, k.target, k.fairness, prio, code).Inc()
		return
	}
	if o.Duration > 0 {
		f.duration.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(o.Duration.Seconds())
	}
	if o.ResponseBytes >= 0 {
		f.responseSize.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(float64(o.ResponseBytes))
	}
	if o.InputTokens > 0 {
		f.inputTokens.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(float64(o.InputTokens))
	}
	if o.OutputTokens > 0 {
		f.outputTokens.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(float64(o.OutputTokens))
		if o.Duration > 0 {
			f.ntpot.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(o.Duration.Seconds() / float64(o.OutputTokens))
		}
	}
	if o.CachedTokens > 0 {
		f.cachedTokens.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(float64(o.CachedTokens))
	}
	switch {
	case o.Streaming && o.TTFT > 0:
		f.ttft.WithLabelValues(k.model, k.target, k.fairness, prio, "true").Observe(o.TTFT.Seconds())
	case !o.Streaming && o.Duration > 0:
		f.ttft.WithLabelValues(k.model, k.target, k.fairness, prio, "false").Observe(o.Duration.Seconds())
	}
	if o.Streaming && o.TPOT > 0 {
		f.tpot.WithLabelValues(k.model, k.target, k.fairness, prio).Observe(o.TPOT.Seconds())
	}
}

// deleteModel removes every series whose model_name or target_model_name is n.
func (f *llmdFamilies) deleteModel(n string) {
	vecs := []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{f.requests, f.errors, f.running, f.duration, f.requestSize, f.responseSize, f.inputTokens,
		f.outputTokens, f.cachedTokens, f.ntpot, f.ttft, f.tpot, f.itl}
	for _, v := range vecs {
		v.DeletePartialMatch(prometheus.Labels{"model_name": n})
		v.DeletePartialMatch(prometheus.Labels{"target_model_name": n})
	}
}
