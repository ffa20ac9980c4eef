package modelmetrics_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/infergate/infergate/internal/modelmetrics"
	"github.com/infergate/infergate/internal/pool"
)

func ExampleParse() {
	const exposition = `# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="llama",engine="0"} 4.0
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="llama",engine="0"} 1.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{model_name="llama",engine="0"} 0.25
# TYPE vllm:lora_requests_info gauge
vllm:lora_requests_info{max_lora="4",running_lora_adapters="sql,chat",waiting_lora_adapters=""} 1.7e9
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",num_gpu_blocks="2048",engine="0"} 1.0
`
	m, err := modelmetrics.Parse(strings.NewReader(exposition), pool.EngineVLLM, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("waiting", m.WaitingQueue, "running", m.Running, "kv", m.KVCacheUsage)
	fmt.Println("adapters", m.ActiveAdapters, "of", m.MaxAdapters)
	fmt.Println("blocks", m.NumGPUBlocks, "of", m.BlockSize, "tokens")
	// Output:
	// waiting 4 running 1 kv 0.25
	// adapters [sql chat] of 4
	// blocks 2048 of 16 tokens
}
