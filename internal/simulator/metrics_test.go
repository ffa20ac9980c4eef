package simulator

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

func TestMetricsExposition(t *testing.T) {
	gauge, counter, histogram := dto.MetricType_GAUGE, dto.MetricType_COUNTER, dto.MetricType_HISTOGRAM
	tests := []struct {
		name         string
		engine       string
		wantTypes    map[string]dto.MetricType
		wantLabels   map[string]string // labels of every series of the running gauge
		runningName  string
		queriesName  string // prefix-cache queries or prompt tokens, in tokens
		hitsName     string // prefix-cache hits, in tokens
		ttftName     string
		wantTTFT     []float64
		perRequestHi bool // hits counted at admission (vLLM) rather than at finish (SGLang)
	}{
		{
			name:   "vllm",
			engine: EngineVLLM,
			wantTypes: map[string]dto.MetricType{
				"vllm:num_requests_running":                  gauge,
				"vllm:num_requests_waiting":                  gauge,
				"vllm:kv_cache_usage_perc":                   gauge,
				"vllm:gpu_cache_usage_perc":                  gauge,
				"vllm:cache_config_info":                     gauge,
				"vllm:lora_requests_info":                    gauge,
				"vllm:prefix_cache_queries_total":            counter,
				"vllm:prefix_cache_hits_total":               counter,
				"vllm:prompt_tokens_total":                   counter,
				"vllm:generation_tokens_total":               counter,
				"vllm:num_preemptions_total":                 counter,
				"vllm:request_success_total":                 counter,
				"vllm:time_to_first_token_seconds":           histogram,
				"vllm:inter_token_latency_seconds":           histogram,
				"vllm:time_per_output_token_seconds":         histogram,
				"vllm:request_time_per_output_token_seconds": histogram,
				"vllm:e2e_request_latency_seconds":           histogram,
				"vllm:request_queue_time_seconds":            histogram,
				"vllm:request_prefill_time_seconds":          histogram,
				"vllm:request_decode_time_seconds":           histogram,
				"vllm:request_inference_time_seconds":        histogram,
				"vllm:request_prompt_tokens":                 histogram,
				"vllm:request_generation_tokens":             histogram,
			},
			wantLabels:  map[string]string{"model_name": "meta-llama/Llama-3.1-8B-Instruct", "engine": "0"},
			runningName: "vllm:num_requests_running",
			queriesName: "vllm:prefix_cache_queries_total",
			hitsName:    "vllm:prefix_cache_hits_total",
			ttftName:    "vllm:time_to_first_token_seconds",
			wantTTFT:    vllmTTFTBuckets(),
		},
		{
			name:   "sglang",
			engine: EngineSGLang,
			wantTypes: map[string]dto.MetricType{
				"sglang:num_queue_reqs":              gauge,
				"sglang:num_running_reqs":            gauge,
				"sglang:token_usage":                 gauge,
				"sglang:num_used_tokens":             gauge,
				"sglang:max_total_num_tokens":        gauge,
				"sglang:cache_hit_rate":              gauge,
				"sglang:cache_config_info":           gauge,
				"sglang:prompt_tokens_total":         counter,
				"sglang:generation_tokens_total":     counter,
				"sglang:cached_tokens_total":         counter,
				"sglang:num_requests_total":          counter,
				"sglang:num_aborted_requests_total":  counter,
				"sglang:time_to_first_token_seconds": histogram,
				"sglang:inter_token_latency_seconds": histogram,
				"sglang:e2e_request_latency_seconds": histogram,
			},
			wantLabels:  map[string]string{"model_name": "meta-llama/Llama-3.1-8B-Instruct"},
			runningName: "sglang:num_running_reqs",
			queriesName: "sglang:prompt_tokens_total",
			hitsName:    "sglang:cached_tokens_total",
			ttftName:    "sglang:time_to_first_token_seconds",
			wantTTFT:    sglangTTFTBuckets(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig()
			cfg.Engine = tc.engine
			cfg.LoRAs = []string{"sql-lora"}
			ts := startServer(t, cfg)

			before := ts.scrape(t)
			gotTypes := make(map[string]dto.MetricType)
			for name, f := range before {
				gotTypes[name] = f.GetType()
			}
			if diff := cmp.Diff(tc.wantTypes, gotTypes); diff != "" {
				t.Errorf("families (-want +got):\n%s", diff)
			}
			for _, m := range before[tc.runningName].GetMetric() {
				got := make(map[string]string)
				for _, l := range m.GetLabel() {
					got[l.GetName()] = l.GetValue()
				}
				if diff := cmp.Diff(tc.wantLabels, got); diff != "" {
					t.Errorf("%s labels (-want +got):\n%s", tc.runningName, diff)
				}
			}
			if hits := value(before, tc.hitsName, nil); hits != 0 {
				t.Errorf("%s = %v before any request", tc.hitsName, hits)
			}

			prompt := strings.Repeat("the same long prefix ", 100)
			body := fmt.Sprintf(`{"model":"sql-lora","prompt":%q,"max_tokens":3}`, prompt)
			for range 2 {
				if status, _, data := ts.post(t, "/v1/completions", body); status != http.StatusOK {
					t.Fatalf("status %d: %s", status, data)
				}
			}
			after := ts.scrape(t)
			promptTokens := (len(prompt) + 3) / 4
			if got := value(after, tc.queriesName, nil); got != float64(2*promptTokens) {
				t.Errorf("%s = %v, want %d", tc.queriesName, got, 2*promptTokens)
			}
			wantHits := float64((promptTokens - 1) / 16 * 16)
			if got := value(after, tc.hitsName, nil); got != wantHits {
				t.Errorf("%s = %v after a repeated prompt, want %v", tc.hitsName, got, wantHits)
			}
			ttft := after[tc.ttftName].GetMetric()[0].GetHistogram()
			var bounds []float64
			for _, b := range ttft.GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
			if diff := cmp.Diff(append(tc.wantTTFT, math.Inf(1)), bounds); diff != "" {
				t.Errorf("%s buckets (-want +got):\n%s", tc.ttftName, diff)
			}
			if ttft.GetSampleCount() != 2 || ttft.GetSampleSum() <= 0 {
				t.Errorf("%s: %d samples summing to %v, want 2 positive model-time samples",
					tc.ttftName, ttft.GetSampleCount(), ttft.GetSampleSum())
			}
		})
	}
}

func TestCacheConfigInfo(t *testing.T) {
	cfg := fastConfig()
	cfg.Profile.BlockSize, cfg.Profile.NumGPUBlocks = 32, 5000
	ts := startServer(t, cfg)
	f := ts.scrape(t)["vllm:cache_config_info"]
	if len(f.GetMetric()) != 1 {
		t.Fatalf("%d series, want 1", len(f.GetMetric()))
	}
	m := f.GetMetric()[0]
	got := make(map[string]string)
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	if got["block_size"] != "32" || got["num_gpu_blocks"] != "5000" || got["engine"] != "0" || m.GetGauge().GetValue() != 1 {
		t.Errorf("cache_config_info labels %v value %v", got, m.GetGauge().GetValue())
	}
}

// loraSeries returns the labels of every vllm:lora_requests_info series.
func loraSeries(f map[string]*dto.MetricFamily) []map[string]string {
	var out []map[string]string
	for _, m := range f["vllm:lora_requests_info"].GetMetric() {
		labels := make(map[string]string)
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		out = append(out, labels)
	}
	return out
}

func TestLoRARequestsInfo(t *testing.T) {
	cfg := fastConfig()
	cfg.TimeScale = 1 // real time, so the requests stay in the engine
	cfg.LoRAs = []string{"a", "b", "c"}
	cfg.Profile.MaxLoRAs = 2
	ts := startServer(t, cfg)
	if diff := cmp.Diff([]map[string]string{{"max_lora": "2", "running_lora_adapters": "", "waiting_lora_adapters": ""}},
		loraSeries(ts.scrape(t))); diff != "" {
		t.Errorf("idle series (-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, adapter := range []string{"a", "b", "c"} {
		body := fmt.Sprintf(`{"model":%q,"prompt":"hello %s","max_tokens":100000,"stream":true}`, adapter, adapter)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/v1/completions", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		// Submit in order, so that c is the one left waiting.
		ts.pollMetrics(t, "the request for "+adapter+" to reach the engine", func(f map[string]*dto.MetricFamily) bool {
			s := loraSeries(f)
			return len(s) == 1 && strings.Contains(s[0]["running_lora_adapters"]+","+s[0]["waiting_lora_adapters"], adapter)
		})
	}
	ts.pollMetrics(t, "a and b running, c waiting", func(f map[string]*dto.MetricFamily) bool {
		return cmp.Equal([]map[string]string{{"max_lora": "2", "running_lora_adapters": "a,b", "waiting_lora_adapters": "c"}},
			loraSeries(f))
	})
	cancel()
	wg.Wait()
	ts.pollMetrics(t, "no adapters in use", func(f map[string]*dto.MetricFamily) bool {
		return cmp.Equal([]map[string]string{{"max_lora": "2", "running_lora_adapters": "", "waiting_lora_adapters": ""}},
			loraSeries(f))
	})
}

func TestManyRequests(t *testing.T) {
	cfg := fastConfig()
	cfg.TimeScale = 1000
	ts := startServer(t, cfg)
	const requests, concurrency, maxTokens = 200, 50, 32
	system := strings.Repeat("Answer briefly. ", 20)
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := make(map[int]int)
	for range concurrency {
		wg.Go(func() {
			for i := range work {
				body := fmt.Sprintf(`{"model":"meta-llama/Llama-3.1-8B-Instruct","max_tokens":%d,"stream":%v,`+
					`"messages":[{"role":"system","content":%q},{"role":"user","content":"question %d"}]}`,
					maxTokens, i%2 == 0, system, i)
				resp, err := http.Post(ts.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
				status := -1
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	for i := range requests {
		work <- i
	}
	close(work)
	wg.Wait()
	if diff := cmp.Diff(map[int]int{http.StatusOK: requests}, statuses); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	f := ts.scrape(t)
	checks := []struct {
		name string
		want float64
	}{
		{"vllm:generation_tokens_total", requests * maxTokens},
		{"vllm:e2e_request_latency_seconds", requests},
		{"vllm:inter_token_latency_seconds", requests * (maxTokens - 1)},
		{"vllm:num_requests_running", 0},
		{"vllm:num_requests_waiting", 0},
		{"vllm:kv_cache_usage_perc", 0},
	}
	for _, c := range checks {
		if got := value(f, c.name, nil); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if got := value(f, "vllm:request_success_total", map[string]string{"finished_reason": "length"}); got != requests {
		t.Errorf("successes = %v, want %d", got, requests)
	}
	// All requests share the system prompt's leading block.
	if got := value(f, "vllm:prefix_cache_hits_total", nil); got <= 0 {
		t.Errorf("prefix cache hits = %v, want some", got)
	}
}
