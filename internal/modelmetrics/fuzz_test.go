package modelmetrics

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/infergate/infergate/internal/pool"
)

// parseFull is Parse without the line pre-filter: the whole exposition goes
// through the text parser. It is the reference the pre-filter must match.
func parseFull(t testing.TB, in []byte, spec *engineSpec) (*pool.Metrics, error, bool) {
	t.Helper()
	tp := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := tp.TextToMetricFamilies(bytes.NewReader(in))
	if err != nil {
		return nil, nil, false
	}
	m, err := metricsFrom(fams, spec, testNow)
	return m, err, true
}

// FuzzParse checks that Parse never panics, that what it returns is in
// range, and that the pre-filtered parse agrees with a full parse whenever
// the full parse accepts the input.
//
//	go test ./internal/modelmetrics -run '^$' -fuzz FuzzParse -fuzztime 60s -fuzzminimizetime 5s
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		vllmCore,
		"",
		"\n\n#\n# HELP\n# TYPE vllm:num_requests_waiting\n",
		"{\"vllm:num_requests_waiting\"} 1\nvllm:num_requests_running 2\nvllm:kv_cache_usage_perc 0.5\n",
		"vllm:num_requests_waiting{a=\"\\\"\"} 1e400\nvllm:num_requests_running -Inf\nvllm:kv_cache_usage_perc NaN\n",
		"vllm:num_requests_\"waiting\" 1\n",
		"# TYPE vllm:num_requests_waiting summary\nvllm:num_requests_waiting_count 1\nvllm:num_requests_waiting{quantile=\"0.5\"} 1\n",
		vllmCore + "vllm:lora_requests_info{running_lora_adapters=\",,\"} 1\n",
		"sglang:num_queue_reqs 1\nsglang:num_running_reqs 1\nsglang:token_usage 1\nsglang:max_total_num_tokens 9e99\n",
		"trtllm_num_requests_waiting 1\ntrtllm_num_requests_running 1\ntrtllm_kv_cache_utilization 1\ntrtllm_kv_cache_max_blocks 3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, engine := range []pool.Engine{pool.EngineVLLM, pool.EngineSGLang, pool.EngineTRTLLM} {
			got, err := Parse(bytes.NewReader(in), engine, testNow)
			if err == nil {
				checkRanges(t, got)
			}
			want, wantErr, ok := parseFull(t, in, specFor(engine))
			if !ok {
				continue // The full parse rejects the input; the filtered one may accept it.
			}
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s: Parse error = %v, full parse error = %v", engine, err, wantErr)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("%s: Parse differs from full parse (-full +filtered):\n%s", engine, diff)
			}
		}
	})
}

func checkRanges(t *testing.T, m *pool.Metrics) {
	t.Helper()
	if m == nil {
		t.Fatal("Parse returned nil metrics and no error")
	}
	for name, v := range map[string]int{
		"WaitingQueue": m.WaitingQueue, "Running": m.Running, "MaxAdapters": m.MaxAdapters,
		"BlockSize": m.BlockSize, "NumGPUBlocks": m.NumGPUBlocks,
	} {
		if v < 0 || v > math.MaxInt32 {
			t.Errorf("%s = %d, out of [0, MaxInt32]", name, v)
		}
	}
	if !(m.KVCacheUsage >= 0 && m.KVCacheUsage <= 1) {
		t.Errorf("KVCacheUsage = %v, out of [0, 1]", m.KVCacheUsage)
	}
	for _, a := range append(m.ActiveAdapters, m.WaitingAdapters...) {
		if a == "" {
			t.Error("empty adapter name")
		}
	}
}
