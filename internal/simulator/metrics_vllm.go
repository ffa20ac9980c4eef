package simulator

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// vllmTTFTBuckets returns vLLM V1's time-to-first-token buckets
// (vllm/v1/metrics/loggers.py).
func vllmTTFTBuckets() []float64 {
	return []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
		1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}
}

// vllmTokenLatencyBuckets returns vLLM V1's inter-token and per-output-token
// latency buckets.
func vllmTokenLatencyBuckets() []float64 {
	return []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
		1, 2.5, 5, 7.5, 10, 20, 40, 80}
}

// vllmRequestLatencyBuckets returns vLLM V1's request latency buckets (e2e,
// queue, prefill, decode, inference).
func vllmRequestLatencyBuckets() []float64 {
	return []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60,
		120, 240, 480, 960, 1920, 7680}
}

// vllmMetrics exposes the vLLM V1 metric families (labels model_name and
// engine="0") for one replica.
type vllmMetrics struct {
	running, waiting, kvUsage, gpuUsage prometheus.Gauge
	prefixQueries, prefixHits           prometheus.Counter
	promptTokens, generationTokens      prometheus.Counter
	preemptions                         prometheus.Counter
	success                             map[string]prometheus.Counter
	ttft, itl, tpot, requestTPOT        prometheus.Histogram
	e2e, queue, prefill, decode, infer  prometheus.Histogram
	promptLen, generationLen            prometheus.Histogram
	lora                                *loraInfo // nil without adapters
	totalBlocks                         float64
}

var _ recorder = (*vllmMetrics)(nil)

// newVLLMMetrics registers the vLLM families for cfg on reg.
func newVLLMMetrics(reg prometheus.Registerer, cfg *Config) *vllmMetrics {
	labels := prometheus.Labels{"model_name": cfg.Model, "engine": "0"}
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
	m := &vllmMetrics{
		running:  gauge("vllm:num_requests_running", "Number of requests in the running batch."),
		waiting:  gauge("vllm:num_requests_waiting", "Number of requests waiting to be scheduled."),
		kvUsage:  gauge("vllm:kv_cache_usage_perc", "KV cache usage: 1 means 100 percent."),
		gpuUsage: gauge("vllm:gpu_cache_usage_perc", "KV cache usage: 1 means 100 percent (deprecated name)."),
		prefixQueries: counter("vllm:prefix_cache_queries_total",
			"Prefix cache queries, in tokens."),
		prefixHits: counter("vllm:prefix_cache_hits_total",
			"Prefix cache hits, in tokens."),
		promptTokens:     counter("vllm:prompt_tokens_total", "Number of prefill tokens processed."),
		generationTokens: counter("vllm:generation_tokens_total", "Number of generation tokens processed."),
		preemptions:      counter("vllm:num_preemptions_total", "Cumulative number of preemptions."),
		ttft: histogram("vllm:time_to_first_token_seconds",
			"Histogram of time to first token in seconds.", vllmTTFTBuckets()),
		itl: histogram("vllm:inter_token_latency_seconds",
			"Histogram of inter-token latency in seconds.", vllmTokenLatencyBuckets()),
		tpot: histogram("vllm:time_per_output_token_seconds",
			"Histogram of time per output token in seconds (deprecated name of inter-token latency).", vllmTokenLatencyBuckets()),
		requestTPOT: histogram("vllm:request_time_per_output_token_seconds",
			"Histogram of each request's decode time divided by its decode tokens, in seconds.", vllmTokenLatencyBuckets()),
		e2e: histogram("vllm:e2e_request_latency_seconds",
			"Histogram of end-to-end request latency in seconds.", vllmRequestLatencyBuckets()),
		queue: histogram("vllm:request_queue_time_seconds",
			"Histogram of time spent waiting before the first scheduling, in seconds.", vllmRequestLatencyBuckets()),
		prefill: histogram("vllm:request_prefill_time_seconds",
			"Histogram of time from first scheduling to first token, in seconds.", vllmRequestLatencyBuckets()),
		decode: histogram("vllm:request_decode_time_seconds",
			"Histogram of time from first to last token, in seconds.", vllmRequestLatencyBuckets()),
		infer: histogram("vllm:request_inference_time_seconds",
			"Histogram of time from first scheduling to last token, in seconds.", vllmRequestLatencyBuckets()),
		promptLen: histogram("vllm:request_prompt_tokens",
			"Number of prefill tokens processed per request.", buckets125(p.MaxModelLen)),
		generationLen: histogram("vllm:request_generation_tokens",
			"Number of generation tokens processed per request.", buckets125(p.MaxModelLen)),
		totalBlocks: float64(p.NumGPUBlocks),
	}
	success := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vllm:request_success_total", Help: "Count of finished requests by finish reason.", ConstLabels: labels,
	}, []string{"finished_reason"})
	reg.MustRegister(success)
	m.success = make(map[string]prometheus.Counter)
	for _, reason := range []string{finishStop, finishLength, finishAbort} {
		m.success[reason] = success.WithLabelValues(reason)
	}
	cacheInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vllm:cache_config_info",
		Help: "Information of the KV cache configuration.",
		ConstLabels: prometheus.Labels{
			"block_size":             strconv.Itoa(p.BlockSize),
			"num_gpu_blocks":         strconv.Itoa(p.NumGPUBlocks),
			"cache_dtype":            "auto",
			"enable_prefix_caching":  "True",
			"gpu_memory_utilization": "0.9",
			"engine":                 "0",
		},
	})
	cacheInfo.Set(1)
	reg.MustRegister(cacheInfo)
	if len(cfg.adapters()) > 0 {
		m.lora = newLoRAInfo(p.MaxLoRAs)
		reg.MustRegister(m.lora)
	}
	return m
}

func (m *vllmMetrics) admitted(r *request, cachedTokens int) {
	m.prefixQueries.Add(float64(r.prompt.tokens))
	m.prefixHits.Add(float64(cachedTokens))
}

func (m *vllmMetrics) firstToken(r *request) {
	m.ttft.Observe((r.firstToken - r.arrival).Seconds())
	m.promptTokens.Add(float64(r.prompt.tokens))
	m.generationTokens.Inc()
}

func (m *vllmMetrics) nextToken(itl time.Duration) {
	s := itl.Seconds()
	m.itl.Observe(s)
	m.tpot.Observe(s)
	m.generationTokens.Inc()
}

func (m *vllmMetrics) preempted() { m.preemptions.Inc() }

func (m *vllmMetrics) finished(r *request, reason string) {
	m.success[reason].Inc()
	if reason == finishAbort {
		return
	}
	g := r.generated()
	m.e2e.Observe((r.lastToken - r.arrival).Seconds())
	m.queue.Observe((r.scheduled - r.arrival).Seconds())
	m.prefill.Observe((r.firstToken - r.scheduled).Seconds())
	m.decode.Observe((r.lastToken - r.firstToken).Seconds())
	m.infer.Observe((r.lastToken - r.scheduled).Seconds())
	if g > 1 {
		m.requestTPOT.Observe((r.lastToken - r.firstToken).Seconds() / float64(g-1))
	}
	m.promptLen.Observe(float64(r.prompt.tokens))
	m.generationLen.Observe(float64(g))
}

func (m *vllmMetrics) state(s engineState) {
	m.running.Set(float64(s.running))
	m.waiting.Set(float64(s.waiting))
	usage := float64(s.usedBlocks) / m.totalBlocks
	m.kvUsage.Set(usage)
	m.gpuUsage.Set(usage)
	if m.lora != nil && s.adaptersChanged {
		m.lora.set(s.runningAdapters, s.waitingAdapters, time.Now())
	}
}

// buckets125 returns 1, 2, 5, 10, 20, 50, … up to max (vLLM's token-count
// buckets).
func buckets125(max int) []float64 {
	var out []float64
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			v := base * m
			if v > max {
				return out
			}
			out = append(out, float64(v))
		}
	}
}

// loraInfo is the vllm:lora_requests_info gauge: exactly one series whose
// labels list the running and waiting adapters and whose value is the unix
// time of the last change. A collector (rather than a GaugeVec that is reset
// and set) so a scrape never sees zero or two series.
type loraInfo struct {
	desc    *prometheus.Desc
	maxLoRA string

	mu               sync.Mutex
	running, waiting string
	stamp            float64
}

func newLoRAInfo(maxLoRAs int) *loraInfo {
	return &loraInfo{
		desc: prometheus.NewDesc("vllm:lora_requests_info", "Running stats on LoRA requests.",
			[]string{"max_lora", "running_lora_adapters", "waiting_lora_adapters"}, nil),
		maxLoRA: strconv.Itoa(maxLoRAs),
		stamp:   float64(time.Now().UnixNano()) / 1e9,
	}
}

// set records the current adapter lists.
func (l *loraInfo) set(running, waiting string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if running == l.running && waiting == l.waiting {
		return
	}
	l.running, l.waiting = running, waiting
	l.stamp = float64(now.UnixNano()) / 1e9
}

// Describe implements [prometheus.Collector].
func (l *loraInfo) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

// Collect implements [prometheus.Collector].
func (l *loraInfo) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	running, waiting, stamp := l.running, l.waiting, l.stamp
	l.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, stamp, l.maxLoRA, running, waiting)
}
