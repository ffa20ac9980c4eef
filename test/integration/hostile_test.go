package integration

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// rawMetrics fetches /metrics and returns its text.
func rawMetrics(t *testing.T, gw *gatewayProc) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gw.MetricsURL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+gw.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// labelValuesOf returns the distinct values of label across every series of
// the families whose names start with prefix.
func labelValuesOf(t *testing.T, text, prefix, label string) map[string]bool {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]bool{}
	for name, mf := range fams {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					out[lp.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestHostileModelNames sends what a hostile client would (megabyte model
// names, made-up models, made-up rewrite targets, invalid UTF-8 in a control
// header) and checks every request is answered, /metrics stays small with
// the configured and served models under their own names, and the log does
// not grow with the input.
func TestHostileModelNames(t *testing.T) {
	f := startFleet(t, 1, loraArgs, modelsYAML+"metrics:\n  modelNameLimit: 3\n  modelPairLimit: 4\n")
	url := f.gw.URL + "/v1/completions"
	completion := func(model string) string {
		return `{"model":"` + model + `","prompt":"hi","max_tokens":1}`
	}

	logBefore := len(f.gw.Output())
	huge := strings.Repeat("m", 1<<20)
	for i := range 10 {
		status, body := postJSON(t, url, completion(huge+string(rune('a'+i))), nil)
		if status != http.StatusBadRequest {
			t.Fatalf("1 MiB model name: %d, want 400", status)
		}
		e := decodeError(t, body)
		if e.Error.Param == nil || *e.Error.Param != "model" || e.Error.Code == nil || *e.Error.Code != "string_above_max_length" {
			t.Fatalf("1 MiB model name: error %+v, want param model, code string_above_max_length", e.Error)
		}
	}
	if grew := len(f.gw.Output()) - logBefore; grew > 10*2048 {
		t.Errorf("ten requests with 1 MiB model names grew the log by %d bytes", grew)
	}

	// Names of any length that resolve to nothing: 404 and label "unknown".
	for i := range 40 {
		if status, body := postJSON(t, url, completion(strings.Repeat("x", 200)+strconv.Itoa(i)), nil); status != http.StatusNotFound {
			t.Fatalf("made-up model: %d %s, want 404", status, body)
		}
	}
	// Made-up rewrite targets (control headers are trusted by default) fill
	// the client-derived cap...
	for i := range 10 {
		postJSON(t, url, completion("llama"), map[string]string{"x-gateway-model-name-rewrite": "junk-" + string(rune('a'+i))})
	}
	// ...and invalid UTF-8 in a control header is a 400, not a panic.
	status, body := postJSON(t, url, completion("llama"), map[string]string{"x-gateway-model-name-rewrite": "sql-lora\xff\xfe"})
	if status != http.StatusBadRequest {
		t.Fatalf("invalid UTF-8 rewrite header: %d %s, want 400", status, body)
	}
	if e := decodeError(t, body); e.Error.Param == nil || *e.Error.Param != "x-gateway-model-name-rewrite" {
		t.Errorf("invalid UTF-8 rewrite header: param %v, want the header's name", e.Error.Param)
	}

	// Headers past limits.maxHeaderBytes (64 KiB) are refused by the server.
	if status, _ := postJSON(t, url, completion("llama"), map[string]string{"x-padding": strings.Repeat("p", 100<<10)}); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB header: %d, want 431", status)
	}

	// Configured and served models still count under their own names.
	for _, m := range []string{"llama", "sql", baseModel, "chat-lora"} {
		if status, body := postJSON(t, url, completion(m), nil); status != 200 {
			t.Fatalf("%s: %d %s", m, status, body)
		}
	}
	var text string
	eventually(t, 5*time.Second, "the served models' requests are counted", func() bool {
		text = rawMetrics(t, f.gw)
		return labelValuesOf(t, text, "inference_objective_request_total", "model_name")["chat-lora"]
	})
	models := labelValuesOf(t, text, "inference_", "model_name")
	targets := labelValuesOf(t, text, "inference_", "target_model_name")
	for _, m := range []string{"llama", "sql", baseModel, "chat-lora", "unknown"} {
		if !models[m] {
			t.Errorf("model_name %q missing; have %v", m, models)
		}
	}
	for _, m := range []string{"sql-lora", baseModel, "chat-lora", "other"} {
		if !targets[m] {
			t.Errorf("target_model_name %q missing; have %v", m, targets)
		}
	}
	for v := range models {
		if strings.HasPrefix(v, "x") || len(v) > 256 {
			t.Errorf("client-made model_name %.40q exported", v)
		}
	}
	junk := 0
	for v := range targets {
		if strings.HasPrefix(v, "junk-") {
			junk++
		}
	}
	if junk > 3 {
		t.Errorf("%d made-up targets exported, want at most modelNameLimit=3", junk)
	}
	// 128 KiB per name set (three by default: llm-d, gie, legacy), for a
	// handful of pinned models, three client-made names and every family.
	if len(text) > 3*128<<10 {
		t.Errorf("/metrics is %d bytes after hostile input", len(text))
	}
	if out := f.gw.Output(); strings.Contains(out, "panic") {
		t.Errorf("gateway log mentions a panic:\n%s", out)
	}
}

// TestUntrustedControlHeaders checks trustControlHeaders: false: a client's
// rewrite and objective headers are ignored (and not passed on), so it can
// neither pick a target model nor raise its priority.
func TestUntrustedControlHeaders(t *testing.T) {
	f := startFleet(t, 1, loraArgs, modelsYAML+"trustControlHeaders: false\n")
	status, body := postJSON(t, f.gw.URL+"/v1/completions", `{"model":"llama","prompt":"hi","max_tokens":1}`,
		map[string]string{"x-llm-d-model-name-rewrite": "sql-lora", "x-gateway-inference-objective": "critical"})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if !strings.Contains(body, `"model":"`+baseModel+`"`) {
		t.Errorf("answered by %s, want the configured target %s (rewrite header ignored)", body, baseModel)
	}
	eventually(t, 5*time.Second, "the request is counted at priority 0", func() bool {
		fams := scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token)
		return labelSum(fams, "inference_objective_request_total", "priority", "0") == 1 &&
			labelSum(fams, "inference_objective_request_total", "priority", "10") == 0
	})
}
