package modelmetrics

import "github.com/infergate/infergate/internal/pool"

// engineSpec names the metric families one engine exposes for each signal.
// Empty names mean the engine has no such family.
type engineSpec struct {
	path string

	// Required gauges.
	waiting string
	running string
	// kvUsage lists KV-usage families in order of preference; the first one
	// present is read.
	kvUsage []string

	// Optional families.
	lora string
	// cacheInfo is an info gauge whose labels carry the block size and count.
	cacheInfo      string
	blockSizeLabel string
	numBlocksLabel string
	// blockSize and numBlocks are plain gauges (trtllm-serve).
	blockSize string
	numBlocks string
	// kvTokens is a KV capacity in tokens, used as blocks of one token when
	// cacheInfo is absent (SGLang).
	kvTokens string

	// families is every name above, for the line pre-filter.
	families []string
}

// newEngineSpec fills in families from the other fields.
func newEngineSpec(s engineSpec) *engineSpec {
	for _, name := range append([]string{s.waiting, s.running, s.lora, s.cacheInfo, s.blockSize, s.numBlocks, s.kvTokens}, s.kvUsage...) {
		if name != "" {
			s.families = append(s.families, name)
		}
	}
	return &s
}

var (
	vllmSpec = newEngineSpec(engineSpec{
		path:           "/metrics",
		waiting:        "vllm:num_requests_waiting",
		running:        "vllm:num_requests_running",
		kvUsage:        []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
		lora:           "vllm:lora_requests_info",
		cacheInfo:      "vllm:cache_config_info",
		blockSizeLabel: "block_size",
		numBlocksLabel: "num_gpu_blocks",
	})
	sglangSpec = newEngineSpec(engineSpec{
		path:           "/metrics",
		waiting:        "sglang:num_queue_reqs",
		running:        "sglang:num_running_reqs",
		kvUsage:        []string{"sglang:token_usage"},
		cacheInfo:      "sglang:cache_config_info",
		blockSizeLabel: "page_size",
		numBlocksLabel: "num_pages",
		kvTokens:       "sglang:max_total_num_tokens",
	})
	trtllmSpec = newEngineSpec(engineSpec{
		path:      "/prometheus/metrics",
		waiting:   "trtllm_num_requests_waiting",
		running:   "trtllm_num_requests_running",
		kvUsage:   []string{"trtllm_kv_cache_utilization"},
		blockSize: "trtllm_kv_cache_tokens_per_block",
		numBlocks: "trtllm_kv_cache_max_blocks",
	})
)

// specFor returns the metric names of engine, or nil for an unknown engine.
func specFor(engine pool.Engine) *engineSpec {
	switch engine {
	case pool.EngineVLLM:
		return vllmSpec
	case pool.EngineSGLang:
		return sglangSpec
	case pool.EngineTRTLLM:
		return trtllmSpec
	}
	return nil
}

// MetricsPath returns the HTTP path that serves engine's Prometheus metrics:
// "/prometheus/metrics" for trtllm-serve and "/metrics" for every other engine.
func MetricsPath(engine pool.Engine) string {
	if s := specFor(engine); s != nil {
		return s.path
	}
	return "/metrics"
}
