package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/infergate/infergate/internal/proctest"
)

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsListenerAuth(t *testing.T) {
	f := startFleet(t, 2, func(int) []string { return []string{"--time-scale", "20"} }, "")
	// One request so the objective families have series.
	status, body := postJSON(t, f.gw.URL+"/v1/completions", `{"model":"`+baseModel+`","prompt":"hi","max_tokens":2}`, nil)
	if status != http.StatusOK {
		t.Fatalf("completion: %d %s", status, body)
	}

	tests := []struct {
		name, path, token string
		want              int
	}{
		{name: "metrics without token", path: "/metrics", want: http.StatusUnauthorized},
		{name: "metrics with wrong token", path: "/metrics", token: "wrong", want: http.StatusUnauthorized},
		{name: "metrics with token", path: "/metrics", token: f.gw.Token, want: http.StatusOK},
		{name: "pprof without token", path: "/debug/pprof/", want: http.StatusUnauthorized},
		{name: "pprof with token", path: "/debug/pprof/", token: f.gw.Token, want: http.StatusOK},
		{name: "healthz open", path: "/healthz", want: http.StatusOK},
		{name: "readyz open", path: "/readyz", want: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, body := get(t, f.gw.MetricsURL+tc.path, tc.token); got != tc.want {
				t.Fatalf("GET %s = %d, want %d (%.200s)", tc.path, got, tc.want, body)
			}
		})
	}

	fams := scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token)
	for _, name := range []string{
		"inference_objective_request_total", "inference_model_request_total",
		"inference_objective_request_duration_seconds", "inference_extension_info",
		"inference_extension_scheduler_e2e_duration_seconds", "inference_pool_ready_pods",
	} {
		if _, ok := fams[name]; !ok {
			t.Errorf("family %s missing from /metrics", name)
		}
	}
	eventually(t, 5*time.Second, "inference_objective_request_total = 1", func() bool {
		return sum(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "inference_objective_request_total") == 1
	})
	// The one request was scheduled once: each plugin of the default
	// pipeline recorded exactly one duration.
	plugins := pluginSamples(fams["inference_extension_plugin_duration_seconds"])
	for _, key := range []string{
		"Filter/exclusion-filter/exclusion", "Filter/stale-metrics-filter/stale-metrics",
		"Scorer/queue-scorer/queue", "Scorer/prefix-cache-scorer/prefix", "Picker/max-score-picker/max-score",
	} {
		if plugins[key] != 1 {
			t.Errorf("plugin_duration_seconds{%s} has %d samples after one request, want 1 (all: %v)", key, plugins[key], plugins)
		}
	}
	if n := plugins["Picker/round-robin-picker/round-robin"]; n != 0 {
		t.Errorf("the unused round-robin picker recorded %d samples", n)
	}
	eventually(t, 5*time.Second, "two ready pods", func() bool {
		return sum(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "inference_pool_ready_pods") == 2
	})
	for name := range fams {
		for _, m := range fams[name].GetMetric() {
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "namespace", "cluster", "pod", "job", "instance", "location", "project_id":
					t.Errorf("%s carries scraper-owned label %q", name, lp.GetName())
				}
			}
		}
	}
	if strings.Contains(f.gw.Output(), f.gw.Token) {
		t.Error("gateway logs contain the metrics token")
	}
}

// pluginSamples returns the sample count of each series of the plugin
// duration histogram, keyed extension_point/plugin_type/plugin_name.
func pluginSamples(mf *dto.MetricFamily) map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range mf.GetMetric() {
		var point, typ, name string
		for _, lp := range m.GetLabel() {
			switch lp.GetName() {
			case "extension_point":
				point = lp.GetValue()
			case "plugin_type":
				typ = lp.GetValue()
			case "plugin_name":
				name = lp.GetValue()
			}
		}
		out[point+"/"+typ+"/"+name] = m.GetHistogram().GetSampleCount()
	}
	return out
}

// postJSON posts body and returns the status and response body.
func postJSON(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openAIError is the OpenAI error body.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeError(t *testing.T, body string) openAIError {
	t.Helper()
	var e openAIError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body (%v): %s", err, body)
	}
	return e
}

// TestMetricsAuthFlagOff checks that --metrics-endpoint-auth=false turns the
// metrics listener's auth off (as upstream's flag of the same name does),
// even with a config file that sets none: no token file is needed and
// /metrics answers without a token.
func TestMetricsAuthFlagOff(t *testing.T) {
	_, addr := startSim(t, "sim-open", "--time-scale", "20")
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.yaml")
	cfg := "listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\n" + poolYAML(addr)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, binPath, "--config", path, "--metrics-endpoint-auth=false", "--log-level", "info")
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if got, body := get(t, gw.MetricsURL+p, ""); got != http.StatusOK {
			t.Errorf("GET %s without a token, auth off = %d, want 200 (%.200s)", p, got, body)
		}
	}
}
