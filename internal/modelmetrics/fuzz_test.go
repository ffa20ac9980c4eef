package modelmetrics

import (
	"bytes"
	"encoding/json"
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

// FuzzDecodeModels feeds a replica's /v1/models answer to decodeModels:
// arbitrary bytes never panic nor yield an empty model ID, and a list built
// from three fuzzed IDs (plus arbitrary trailing bytes, which the decoder
// never reads) decodes to exactly its non-empty IDs, in order.
func FuzzDecodeModels(f *testing.F) {
	f.Add([]byte(`{"object":"list","data":[{"id":"m"}]}`), "llama", "", "lora-a")
	f.Add([]byte(`{"data":null}`), "a\x00b", "é", "\xff")
	f.Add([]byte(`{"data":[{"ID":""},{"Id":"x"},{"id":1}]}`), " ", "\"", "\\")
	f.Fuzz(func(t *testing.T, data []byte, a, b, c string) {
		if ids, err := decodeModels(bytes.NewReader(data)); err == nil {
			for _, id := range ids {
				if id == "" {
					t.Fatalf("decodeModels(%q) returned an empty ID", data)
				}
			}
		}

		list := map[string]any{"object": "list", "data": []map[string]any{{"id": a}, {"id": b, "object": "model"}, {"id": c, "owned_by": "vllm"}}}
		body, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range []string{a, b, c} {
			if id = jsonString(t, id); id != "" {
				want = append(want, id)
			}
		}
		got, err := decodeModels(bytes.NewReader(append(body, data...)))
		if err != nil {
			t.Fatalf("decodeModels(%s): %v", body, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("decodeModels(%s) (-want +got):\n%s", body, diff)
		}
	})
}

// jsonString returns s as it reads back from JSON (invalid UTF-8 becomes
// U+FFFD).
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
