package simulator

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sglangTTFTBuckets returns SGLang's default time-to-first-token buckets
// (python/sglang/srt/metrics/collector.py).
func sglangTTFTBuckets() []float64 {
	return []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}
}

// sglangITLBuckets returns SGLang's default inter-token latency buckets.
func sglangITLBuckets() []float64 {
	return []float64{0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040,
		0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1, 2, 4, 6, 8}
}

// sglangE2EBuckets returns SGLang's default end-to-end latency buckets.
func sglangE2EBuckets() []float64 {
	return []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
		600, 1200, 1800, 2400}
}

// sglangMetrics exposes SGLang's metric families (label model_name) for one
// replica. Like SGLang, token and request counters advance when a request
// finishes.
type sglangMetrics struct {
	queue, running, tokenUsage, usedTokens, hitRate prometheus.Gauge
	promptTokens, generationTokens, cachedTokens    prometheus.Counter
	requests, aborted                               prometheus.Counter
	ttft, itl, e2e                                  prometheus.Histogram
	blockSize, totalTokens                          float64
	// Cumulative prompt and cached tokens at admission, for cache_hit_rate.
	queried, hits float64
}

var _ recorder = (*sglangMetrics)(nil)

// newSGLangMetrics registers the SGLang families for cfg on reg.
func newSGLangMetrics(reg prometheus.Registerer, cfg *Config) *sglangMetrics {
	labels := prometheus.Labels{"model_name": cfg.Model}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
		reg.MustRegister(g)
		return g
	}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
		reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels, Buckets: buckets})
		reg.MustRegister(h)
		return h
	}
	p := &cfg.Profile
	total := float64(p.NumGPUBlocks * p.BlockSize)
	m := &sglangMetrics{
		queue:            gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue."),
		running:          gauge("sglang:num_running_reqs", "The number of running requests."),
		tokenUsage:       gauge("sglang:token_usage", "The token usage."),
		usedTokens:       gauge("sglang:num_used_tokens", "The number of used tokens."),
		hitRate:          gauge("sglang:cache_hit_rate", "The prefix cache hit rate."),
		promptTokens:     counter("sglang:prompt_tokens_total", "Number of prefill tokens processed."),
		generationTokens: counter("sglang:generation_tokens_total", "Number of generation tokens processed."),
		cachedTokens:     counter("sglang:cached_tokens_total", "Number of cached prompt tokens."),
		requests:         counter("sglang:num_requests_total", "Number of requests processed."),
		aborted:          counter("sglang:num_aborted_requests_total", "Number of requests aborted."),
		ttft: histogram("sglang:time_to_first_token_seconds",
			"Histogram of time to first token in seconds.", sglangTTFTBuckets()),
		itl: histogram("sglang:inter_token_latency_seconds",
			"Histogram of inter-token latency in seconds.", sglangITLBuckets()),
		e2e: histogram("sglang:e2e_request_latency_seconds",
			"Histogram of end-to-end request latency in seconds.", sglangE2EBuckets()),
		blockSize:   float64(p.BlockSize),
		totalTokens: total,
	}
	gauge("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache.").Set(total)
	// Not an SGLang family: the simulator's page size and page count, for
	// gateways that need them (vLLM's cache_config_info equivalent).
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sglang:cache_config_info",
		Help: "KV cache page configuration of the simulator.",
		ConstLabels: prometheus.Labels{
			"model_name": cfg.Model,
			"page_size":  strconv.Itoa(p.BlockSize),
			"num_pages":  strconv.Itoa(p.NumGPUBlocks),
		},
	})
	info.Set(1)
	reg.MustRegister(info)
	return m
}

func (m *sglangMetrics) admitted(r *request, cachedTokens int) {
	m.queried += float64(r.prompt.tokens)
	m.hits += float64(cachedTokens)
	m.hitRate.Set(m.hits / m.queried)
}

func (m *sglangMetrics) firstToken(r *request) {
	m.ttft.Observe((r.firstToken - r.arrival).Seconds())
}

func (m *sglangMetrics) nextToken(itl time.Duration) { m.itl.Observe(itl.Seconds()) }

func (m *sglangMetrics) preempted() {}

func (m *sglangMetrics) finished(r *request, reason string) {
	if reason == finishAbort {
		m.aborted.Inc()
		return
	}
	m.promptTokens.Add(float64(r.prompt.tokens))
	m.generationTokens.Add(float64(r.generated()))
	m.cachedTokens.Add(float64(r.cached))
	m.requests.Inc()
	m.e2e.Observe((r.lastToken - r.arrival).Seconds())
}

func (m *sglangMetrics) state(s engineState) {
	m.queue.Set(float64(s.waiting))
	m.running.Set(float64(s.running))
	used := float64(s.usedBlocks) * m.blockSize
	m.usedTokens.Set(used)
	m.tokenUsage.Set(used / m.totalTokens)
}
