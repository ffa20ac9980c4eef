package modelmetrics

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// adapters returns n adapter names sql-lora-<from>… as the testdata generator wrote them.
func adapters(from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("sql-lora-%02d", from+i))
	}
	return out
}

func TestParseTestdata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		file   string
		engine pool.Engine
		want   *pool.Metrics
	}{
		{
			name:   "vLLM V1 with LoRA history, _created series and HTTP instrumentation",
			file:   "vllm_v1.txt",
			engine: pool.EngineVLLM,
			want: &pool.Metrics{
				WaitingQueue: 2, Running: 7, KVCacheUsage: 0.4215,
				ActiveAdapters: adapters(0, 20), WaitingAdapters: adapters(20, 3), MaxAdapters: 20,
				BlockSize: 16, NumGPUBlocks: 27262,
			},
		},
		{
			name:   "vLLM with two data-parallel engines sums counts and averages KV usage",
			file:   "vllm_dp2.txt",
			engine: pool.EngineVLLM,
			want: &pool.Metrics{
				WaitingQueue: 4, Running: 8, KVCacheUsage: 0.375,
				BlockSize: 16, NumGPUBlocks: 22000,
			},
		},
		{
			name:   "vLLM before 0.9.2 falls back to gpu_cache_usage_perc",
			file:   "vllm_legacy.txt",
			engine: pool.EngineVLLM,
			want: &pool.Metrics{
				WaitingQueue: 9, Running: 1, KVCacheUsage: 0.875,
				BlockSize: 16, NumGPUBlocks: 27262,
			},
		},
		{
			name:   "SGLang without cache_config_info counts tokens as blocks",
			file:   "sglang.txt",
			engine: pool.EngineSGLang,
			want: &pool.Metrics{
				WaitingQueue: 6, Running: 11, KVCacheUsage: 0.3178,
				BlockSize: 1, NumGPUBlocks: 570276,
			},
		},
		{
			name:   "SGLang with cache_config_info",
			file:   "sglang_cache_config.txt",
			engine: pool.EngineSGLang,
			want: &pool.Metrics{
				WaitingQueue: 6, Running: 11, KVCacheUsage: 0.3178,
				BlockSize: 64, NumGPUBlocks: 8910,
			},
		},
		{
			name:   "trtllm-serve",
			file:   "trtllm.txt",
			engine: pool.EngineTRTLLM,
			want: &pool.Metrics{
				WaitingQueue: 3, Running: 24, KVCacheUsage: 0.6625,
				BlockSize: 32, NumGPUBlocks: 14322,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(strings.NewReader(readTestdata(t, tc.file)), tc.engine, testNow)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.want.ScrapedAt = testNow
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// vllmCore is the smallest exposition vLLM parsing accepts.
const vllmCore = `# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m",engine="0"} 3.0
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m",engine="0"} 2.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.5
`

func TestParse(t *testing.T) {
	t.Parallel()
	core := &pool.Metrics{WaitingQueue: 3, Running: 2, KVCacheUsage: 0.5}
	with := func(f func(m *pool.Metrics)) *pool.Metrics {
		m := *core
		f(&m)
		return &m
	}
	tests := []struct {
		name    string
		engine  pool.Engine
		input   string
		want    *pool.Metrics
		wantErr error  // checked with errors.Is when set
		errText string // substring of the error when set
	}{
		{
			name:   "core families only",
			engine: pool.EngineVLLM,
			input:  vllmCore,
			want:   core,
		},
		{
			name:   "untyped families are read",
			engine: pool.EngineVLLM,
			input:  "vllm:num_requests_waiting 3\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.5\n",
			want:   core,
		},
		{
			name:    "missing waiting queue",
			engine:  pool.EngineVLLM,
			input:   "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 2\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc 0.5\n",
			wantErr: ErrMissingFamily,
			errText: "vllm:num_requests_waiting",
		},
		{
			name:    "missing running",
			engine:  pool.EngineVLLM,
			input:   "vllm:num_requests_waiting 3\nvllm:kv_cache_usage_perc 0.5\n",
			wantErr: ErrMissingFamily,
			errText: "vllm:num_requests_running",
		},
		{
			name:    "missing both KV families",
			engine:  pool.EngineVLLM,
			input:   "vllm:num_requests_waiting 3\nvllm:num_requests_running 2\n",
			wantErr: ErrMissingFamily,
			errText: "vllm:kv_cache_usage_perc",
		},
		{
			name:    "TYPE line without samples counts as missing",
			engine:  pool.EngineVLLM,
			input:   "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.5\n",
			wantErr: ErrMissingFamily,
		},
		{
			name:    "empty exposition",
			engine:  pool.EngineVLLM,
			input:   "",
			wantErr: ErrMissingFamily,
		},
		{
			name:    "vLLM exposition read as trtllm-serve",
			engine:  pool.EngineTRTLLM,
			input:   vllmCore,
			wantErr: ErrMissingFamily,
		},
		{
			name:    "unknown engine",
			engine:  "tgi",
			input:   vllmCore,
			errText: "unknown engine",
		},
		{
			name:    "counter family is refused",
			engine:  pool.EngineVLLM,
			input:   strings.Replace(vllmCore, "vllm:num_requests_running gauge", "vllm:num_requests_running counter", 1),
			errText: "type COUNTER, want gauge",
		},
		{
			name:    "histogram named like a required gauge is refused",
			engine:  pool.EngineVLLM,
			input:   "# TYPE vllm:num_requests_waiting histogram\nvllm:num_requests_waiting_bucket{le=\"+Inf\"} 1\nvllm:num_requests_waiting_count 1\nvllm:num_requests_waiting_sum 1\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.5\n",
			errText: "type HISTOGRAM, want gauge",
		},
		{
			name:    "NaN in a required family",
			engine:  pool.EngineVLLM,
			input:   strings.Replace(vllmCore, "} 3.0", "} NaN", 1),
			errText: "non-finite",
		},
		{
			name:   "negative counts clamp to zero and KV usage to one",
			engine: pool.EngineVLLM,
			input:  strings.NewReplacer("} 3.0", "} -4", "} 0.5", "} 1.7").Replace(vllmCore),
			want:   with(func(m *pool.Metrics) { m.WaitingQueue, m.KVCacheUsage = 0, 1 }),
		},
		{
			name:   "new KV family wins over the deprecated one",
			engine: pool.EngineVLLM,
			input:  vllmCore + "# TYPE vllm:gpu_cache_usage_perc gauge\nvllm:gpu_cache_usage_perc 0.9\n",
			want:   core,
		},
		{
			name:   "series of one family are summed, KV usage averaged",
			engine: pool.EngineVLLM,
			input:  vllmCore + "vllm:num_requests_waiting{model_name=\"m\",engine=\"1\"} 4\nvllm:kv_cache_usage_perc{model_name=\"m\",engine=\"1\"} 0.25\n",
			want:   with(func(m *pool.Metrics) { m.WaitingQueue, m.KVCacheUsage = 7, 0.375 }),
		},
		{
			name:    "malformed sample of a wanted family",
			engine:  pool.EngineVLLM,
			input:   vllmCore + "vllm:num_requests_waiting{model_name=\"m\" 3\n",
			errText: "parse exposition",
		},
		{
			name:    "wanted sample without trailing newline",
			engine:  pool.EngineVLLM,
			input:   strings.TrimSuffix(vllmCore, "\n"),
			errText: "parse exposition",
		},
		{
			name:    "garbage",
			engine:  pool.EngineVLLM,
			input:   "\x00\x01<html>not metrics</html>\n",
			wantErr: ErrMissingFamily,
		},
		{
			name:   "malformed line of a family the gateway does not read is ignored",
			engine: pool.EngineVLLM,
			input:  "vllm:prompt_tokens_total{oops 12\n" + vllmCore,
			want:   core,
		},
		{
			name:   "quoted metric names fall back to a full parse",
			engine: pool.EngineVLLM,
			input:  "{\"vllm:num_requests_waiting\",model_name=\"m\"} 3\n# TYPE \"vllm:num_requests_running\" gauge\n{\"vllm:num_requests_running\"} 2\nvllm:kv_cache_usage_perc 0.5\n",
			want:   core,
		},
		{
			name:   "blank lines, tabs and other comments",
			engine: pool.EngineVLLM,
			input:  "\n# a comment\n#TYPE vllm:num_requests_waiting gauge\n\t vllm:num_requests_waiting\t3\n\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.5\n",
			want:   core,
		},
		{
			name:   "_created and _total neighbours are not mistaken for the family",
			engine: pool.EngineVLLM,
			input:  "# TYPE vllm:num_requests_waiting_created gauge\nvllm:num_requests_waiting_created 1.7e9\nvllm:num_requests_running_total 99\n" + vllmCore,
			want:   core,
		},
		{
			name:   "LoRA: the series with the largest timestamp wins",
			engine: pool.EngineVLLM,
			input: vllmCore + `# TYPE vllm:lora_requests_info gauge
vllm:lora_requests_info{max_lora="4",running_lora_adapters="a",waiting_lora_adapters=""} 1.7e9
vllm:lora_requests_info{max_lora="4",running_lora_adapters="b,c",waiting_lora_adapters="d"} 1.9e9
vllm:lora_requests_info{max_lora="4",running_lora_adapters="e",waiting_lora_adapters="f"} 1.8e9
`,
			want: with(func(m *pool.Metrics) {
				m.ActiveAdapters, m.WaitingAdapters, m.MaxAdapters = []string{"b", "c"}, []string{"d"}, 4
			}),
		},
		{
			name:   "LoRA: an empty newest series clears the adapters",
			engine: pool.EngineVLLM,
			input: vllmCore + `vllm:lora_requests_info{max_lora="4",running_lora_adapters="a,b",waiting_lora_adapters="c"} 1.7e9
vllm:lora_requests_info{max_lora="4",running_lora_adapters="",waiting_lora_adapters=""} 1.8e9
`,
			want: with(func(m *pool.Metrics) { m.MaxAdapters = 4 }),
		},
		{
			name:   "LoRA: spaces and empty items in lists",
			engine: pool.EngineVLLM,
			input:  vllmCore + "vllm:lora_requests_info{max_lora=\" 8 \",running_lora_adapters=\" a , b,,c ,\",waiting_lora_adapters=\" , \"} 1.7e9\n",
			want: with(func(m *pool.Metrics) {
				m.ActiveAdapters, m.MaxAdapters = []string{"a", "b", "c"}, 8
			}),
		},
		{
			name:   "LoRA: NaN timestamps lose, ties go to the first series",
			engine: pool.EngineVLLM,
			input: vllmCore + `vllm:lora_requests_info{max_lora="2",running_lora_adapters="nan",waiting_lora_adapters=""} NaN
vllm:lora_requests_info{max_lora="2",running_lora_adapters="first",waiting_lora_adapters=""} 5
vllm:lora_requests_info{max_lora="2",running_lora_adapters="second",waiting_lora_adapters=""} 5
`,
			want: with(func(m *pool.Metrics) { m.ActiveAdapters, m.MaxAdapters = []string{"first"}, 2 }),
		},
		{
			name:   "LoRA: bad max_lora reads as zero, a counter-typed family is ignored",
			engine: pool.EngineVLLM,
			input: vllmCore + `vllm:lora_requests_info{max_lora="many",running_lora_adapters="a",waiting_lora_adapters=""} 5
# TYPE vllm:cache_config_info counter
vllm:cache_config_info{block_size="16",num_gpu_blocks="100"} 1
`,
			want: with(func(m *pool.Metrics) { m.ActiveAdapters = []string{"a"} }),
		},
		{
			name:   "cache_config_info before the engine sized its cache",
			engine: pool.EngineVLLM,
			input:  vllmCore + "vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"None\"} 1\n",
			want:   with(func(m *pool.Metrics) { m.BlockSize = 16 }),
		},
		{
			name:   "SGLang cache_config_info without num_pages divides the token capacity",
			engine: pool.EngineSGLang,
			input:  "sglang:num_queue_reqs 3\nsglang:num_running_reqs 2\nsglang:token_usage 0.5\nsglang:cache_config_info{page_size=\"16\"} 1\nsglang:max_total_num_tokens 1600\n",
			want:   with(func(m *pool.Metrics) { m.BlockSize, m.NumGPUBlocks = 16, 100 }),
		},
		{
			name:   "trtllm-serve without cache geometry",
			engine: pool.EngineTRTLLM,
			input:  "trtllm_num_requests_waiting 3\ntrtllm_num_requests_running 2\ntrtllm_kv_cache_utilization 0.5\n",
			want:   core,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(strings.NewReader(tc.input), tc.engine, testNow)
			if tc.wantErr != nil || tc.errText != "" {
				if err == nil {
					t.Fatalf("Parse = %+v, want error", got)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("Parse error = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("Parse error = %q, want it to contain %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := *tc.want
			want.ScrapedAt = testNow
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBodyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int64
		wantErr bool
	}{
		{name: "at the limit", size: MaxBodyBytes},
		{name: "over the limit", size: MaxBodyBytes + 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The core families padded with blank lines to size bytes.
			r := io.MultiReader(strings.NewReader(vllmCore), io.LimitReader(newlines{}, tc.size-int64(len(vllmCore))))
			_, err := Parse(r, pool.EngineVLLM, testNow)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("Parse error = %v, want error: %t", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, errBodyTooLarge) {
				t.Errorf("Parse error = %v, want %v", err, errBodyTooLarge)
			}
		})
	}
}

// newlines is an endless reader of '\n'.
type newlines struct{}

func (newlines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '\n'
	}
	return len(p), nil
}

func TestMetricsPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		engine pool.Engine
		want   string
	}{
		{engine: pool.EngineVLLM, want: "/metrics"},
		{engine: pool.EngineSGLang, want: "/metrics"},
		{engine: pool.EngineTRTLLM, want: "/prometheus/metrics"},
		{engine: "unknown", want: "/metrics"},
	}
	for _, tc := range tests {
		t.Run(string(tc.engine), func(t *testing.T) {
			t.Parallel()
			if got := MetricsPath(tc.engine); got != tc.want {
				t.Errorf("MetricsPath(%q) = %q, want %q", tc.engine, got, tc.want)
			}
		})
	}
}
