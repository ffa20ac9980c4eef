package observability

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The target labels Managed Prometheus would put on the gateway's series,
// reproduced with static labels.
const (
	testProject   = "test-project"
	testLocation  = "us-central1"
	testCluster   = "test-cluster"
	testNamespace = "infergate-test"
	gatewayPod    = "infergate-7c9d8b6f5-x2k4q"
	gmpJob        = "inference-optimized-gateway-monitoring"
	baseModel     = "meta-llama/Llama-3.1-8B-Instruct"
	poolName      = "test"
	// emptyPool has no endpoints; emptyModel is served by it, so its
	// requests wait the no-endpoint hold in flow control's queue and are
	// rejected (503 rejected-no-endpoints). That is the traffic the
	// dashboards' flow-control panels (queue size, queue wait, rejections)
	// need to have data.
	emptyPool  = "scale-from-zero"
	emptyModel = "cold-model"
	// notFoundRequests is how many requests sendTraffic sends for a model
	// nobody serves.
	notFoundRequests = 2
)

// gatewayModels adds a rewrite ("llama" → the base model) so
// target_model_name differs from model_name.
const gatewayModels = `
models:
- name: llama
  targets:
  - model: meta-llama/Llama-3.1-8B-Instruct
- name: cold-model
  pool: scale-from-zero
flowControl:
  noEndpointHold: 200ms
`

// fixture is a running fleet scraped by a running Prometheus.
type fixture struct {
	gw       *gateway
	sims     []string
	prom     *promServer
	promtool string
	client   *http.Client
}

// TestManagedPrometheusView runs two simulators and the gateway, scrapes
// them with Debian's Prometheus the way Managed Prometheus would (bearer
// token from a file, GMP's target labels), sends traffic, and checks what
// Google's guide, the dashboards and the alerts query.
func TestManagedPrometheusView(t *testing.T) {
	f := newFleet(t)
	sent := f.sendTraffic(t)
	total := 0
	for _, n := range sent {
		total += n
	}
	guideQuery := fmt.Sprintf(`inference_model_request_total{cluster=%q, namespace=%q}`, testCluster, testNamespace)
	eventually(t, 30*time.Second, "Prometheus to see every request", func() error {
		got, _, err := f.prom.sumOf(guideQuery)
		if err != nil {
			return err
		}
		if got != float64(total) {
			return fmt.Errorf("%s sums to %v, want %d", guideQuery, got, total)
		}
		return nil
	})

	t.Run("guide query", func(t *testing.T) { f.checkGuideQuery(t, guideQuery, total) })
	t.Run("objective families", func(t *testing.T) { f.checkObjective(t, sent) })
	t.Run("pool families", func(t *testing.T) { f.checkPool(t) })
	t.Run("no scraper-owned labels from the exporter", func(t *testing.T) { f.checkNoExportedLabels(t) })
	t.Run("wrong token shows the target down with 401", func(t *testing.T) { f.checkWrongToken(t) })
	t.Run("promtool check metrics", func(t *testing.T) { f.checkPromtoolMetrics(t) })
	t.Run("grafana dashboard panels", func(t *testing.T) {
		f.checkDashboard(t, "../../deploy/dashboards/grafana-inference-gateway.json", "expr", map[string]string{
			"__rate_interval": "1m", "__interval": "1m", "cluster": testCluster, "namespace": testNamespace,
		})
	})
	t.Run("grafana dashboard variables", func(t *testing.T) { f.checkGrafanaVariables(t) })
	t.Run("cloud monitoring dashboard panels", func(t *testing.T) {
		f.checkDashboard(t, "../../deploy/dashboards/cloud-monitoring-inference-gateway.json", "prometheusQuery", map[string]string{
			"__interval": "1m",
		})
	})
	t.Run("dashboards count every name set once", func(t *testing.T) {
		f.checkNoDuplicates(t, "../../deploy/dashboards/grafana-inference-gateway.json", "expr", map[string]string{
			"__rate_interval": "1m", "__interval": "1m", "cluster": testCluster, "namespace": testNamespace,
		})
		f.checkNoDuplicates(t, "../../deploy/dashboards/cloud-monitoring-inference-gateway.json", "prometheusQuery", map[string]string{
			"__interval": "1m",
		})
	})
	t.Run("alert rules evaluate", func(t *testing.T) { f.checkRules(t) })
}

// newFleet starts two simulators and the gateway (with metricsKeys added to
// its metrics section) scraped by Debian's Prometheus.
func newFleet(t *testing.T, metricsKeys ...string) *fixture {
	promBin, promtool := requirePrometheus(t)
	f := &fixture{promtool: promtool, client: newClient(t)}
	for _, name := range []string{"sim-a", "sim-b"} {
		// Slow enough that a streamed answer's tokens arrive in separate
		// reads, so the gateway measures a time per output token.
		f.sims = append(f.sims, startSim(t, name, "--time-scale", "5"))
	}
	var pool strings.Builder
	fmt.Fprintf(&pool, "pools:\n- name: %s\n  endpoints:\n", poolName)
	for i, addr := range f.sims {
		fmt.Fprintf(&pool, "  - name: sim-%c\n    address: %s\n", 'a'+i, addr)
	}
	fmt.Fprintf(&pool, "- name: %s\n  endpoints: []\n", emptyPool)
	f.gw = startGateway(t, pool.String()+gatewayModels, metricsKeys...)
	f.prom = startPrometheus(t, promBin, f.prometheusConfig(t))
	return f
}

// TestLLMDNamesOnlyView runs the fleet with metrics.nameSets: [llm-d], so
// only the llm_d_epp_* families exist, and checks that every panel of both
// shipped dashboards still has data and every alert rule evaluates.
func TestLLMDNamesOnlyView(t *testing.T) {
	f := newFleet(t, "  nameSets: [llm-d]\n")
	sent := f.sendTraffic(t)
	total := 0
	for _, n := range sent {
		total += n
	}
	q := fmt.Sprintf(`llm_d_epp_request_total{cluster=%q, namespace=%q}`, testCluster, testNamespace)
	eventually(t, 30*time.Second, "Prometheus to see every request", func() error {
		got, _, err := f.prom.sumOf(q)
		if err != nil {
			return err
		}
		if got != float64(total) {
			return fmt.Errorf("%s sums to %v, want %d", q, got, total)
		}
		return nil
	})
	t.Run("only llm_d_epp_ gateway families", func(t *testing.T) {
		for _, old := range []string{"inference_objective_request_total", "inference_model_request_total", "inference_pool_ready_pods", "inference_extension_info"} {
			if _, series, err := f.prom.sumOf(old); err != nil || series != 0 {
				t.Errorf("%s: %d series (%v); want none with nameSets [llm-d]", old, series, err)
			}
		}
	})
	t.Run("grafana dashboard panels", func(t *testing.T) {
		f.checkDashboard(t, "../../deploy/dashboards/grafana-inference-gateway.json", "expr", map[string]string{
			"__rate_interval": "1m", "__interval": "1m", "cluster": testCluster, "namespace": testNamespace,
		})
	})
	t.Run("grafana dashboard variables", func(t *testing.T) { f.checkGrafanaVariables(t) })
	t.Run("cloud monitoring dashboard panels", func(t *testing.T) {
		f.checkDashboard(t, "../../deploy/dashboards/cloud-monitoring-inference-gateway.json", "prometheusQuery", map[string]string{
			"__interval": "1m",
		})
	})
	t.Run("alert rules evaluate", func(t *testing.T) { f.checkRules(t) })
}

// prometheusConfig renders the test Prometheus' configuration: the gateway
// job as GMP would render Google's ClusterPodMonitoring (scrape interval
// shortened from 5s to 1s to keep the test fast), the same target with a
// wrong token, the simulators as model-server pods, and the alert rules.
func (f *fixture) prometheusConfig(t *testing.T) string {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong-token")
	if err := os.WriteFile(wrong, []byte("not-the-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs("../../deploy/alerts/infergate-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gmpLabels := func(pod, container string) string {
		return fmt.Sprintf(`{project_id: %s, location: %s, cluster: %s, namespace: %s, pod: %s, container: %s, instance: "%s:metrics"}`,
			testProject, testLocation, testCluster, testNamespace, pod, container, pod)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: ClusterPodMonitoring/%s/metrics
    metrics_path: /metrics
    scheme: http
    authorization:
      type: Bearer
      credentials_file: %s
    static_configs:
      - targets: [%q]
        labels: %s
    relabel_configs:
      - {action: replace, target_label: job, replacement: %s}
      - {action: replace, target_label: top_level_controller_name, replacement: infergate}
      - {action: replace, target_label: top_level_controller_type, replacement: Deployment}
  - job_name: wrong-token
    authorization:
      type: Bearer
      credentials_file: %s
    static_configs:
      - targets: [%q]
  - job_name: vllm
    static_configs:
`, rules, gmpJob, f.gw.TokenFile, f.gw.MetricsAddr, gmpLabels(gatewayPod, "infergate"), gmpJob, wrong, f.gw.MetricsAddr)
	for i, addr := range f.sims {
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: %s\n", addr, gmpLabels(fmt.Sprintf("vllm-%c", 'a'+i), "vllm"))
	}
	return b.String()
}

// sendTraffic sends a fixed mix of requests through the gateway and returns
// how many it sent per model name: non-streaming completions sharing a long
// prefix (so the replicas report cached tokens), streaming chats through the
// "llama" rewrite, requests for a model nobody serves (404), and a request
// to the pool without endpoints, held in flow control's queue and then
// rejected (503).
func (f *fixture) sendTraffic(t *testing.T) map[string]int {
	t.Helper()
	sent := map[string]int{}
	prefix := strings.Repeat("The gateway routes each request to the replica that already holds its prefix. ", 12)
	for i := range 5 {
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":6}`, baseModel, prefix+fmt.Sprintf("Question %d?", i))
		f.post(t, "/v1/completions", body, http.StatusOK)
		sent[baseModel]++
	}
	for i := range 3 {
		body := fmt.Sprintf(`{"model":"llama","messages":[{"role":"user","content":"Count to %d."}],"max_tokens":16,"stream":true}`, i+3)
		f.post(t, "/v1/chat/completions", body, http.StatusOK)
		sent["llama"]++
	}
	for range notFoundRequests {
		f.post(t, "/v1/completions", `{"model":"no-such-model","prompt":"hi","max_tokens":1}`, http.StatusNotFound)
		sent["unknown"]++ // a name that resolves to nothing is exported as "unknown"
	}
	f.post(t, "/v1/completions", fmt.Sprintf(`{"model":%q,"prompt":"hi","max_tokens":1}`, emptyModel), http.StatusServiceUnavailable)
	// Refused by flow control after the router resolved its model: counted
	// under that model.
	sent[emptyModel]++
	return sent
}

// post sends one request through the gateway, reads the whole answer and
// checks its status.
func (f *fixture) post(t *testing.T, path, body string, want int) {
	t.Helper()
	resp, err := f.client.Post(f.gw.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read: %v", path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("POST %s = %d, want %d: %.300s", path, resp.StatusCode, want, b)
	}
}

// checkGuideQuery runs the query from Google's guide and checks the counts
// and the six Managed Prometheus target labels on every series.
func (f *fixture) checkGuideQuery(t *testing.T, q string, total int) {
	res, err := f.prom.query(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatalf("%s returned no series", q)
	}
	sum := 0.0
	for _, s := range res {
		sum += s.Value
		want := map[string]string{
			"cluster": testCluster, "location": testLocation, "namespace": testNamespace,
			"pod": gatewayPod, "job": gmpJob, "instance": gatewayPod + ":metrics", "project_id": testProject,
		}
		for k, v := range want {
			if s.Metric[k] != v {
				t.Errorf("series %v: label %s = %q, want %q", s.Metric, k, s.Metric[k], v)
			}
		}
	}
	if sum != float64(total) {
		t.Errorf("%s sums to %v, want %d", q, sum, total)
	}
}

// checkObjective checks the inference_objective_* counts per model and the
// error counter.
func (f *fixture) checkObjective(t *testing.T, sent map[string]int) {
	sel := fmt.Sprintf(`cluster=%q, namespace=%q`, testCluster, testNamespace)
	for _, family := range []string{"inference_objective_request_total", "inference_model_request_total"} {
		res, err := f.prom.query(fmt.Sprintf(`sum by (model_name) (%s{%s})`, family, sel))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, s := range res {
			got[s.Metric["model_name"]] = int(s.Value)
		}
		for model, n := range sent {
			if got[model] != n {
				t.Errorf("%s{model_name=%q} = %d, want %d (all: %v)", family, model, got[model], n, got)
			}
		}
	}
	checks := []struct {
		query string
		want  float64
	}{
		{fmt.Sprintf(`sum(inference_objective_request_error_total{%s, error_code="NotFound", model_name="unknown"})`, sel), notFoundRequests},
		{fmt.Sprintf(`sum(inference_objective_request_total{%s, model_name="llama", target_model_name=%q})`, sel, baseModel), float64(sent["llama"])},
		{fmt.Sprintf(`sum(inference_objective_request_duration_seconds_count{%s})`, sel), float64(sent[baseModel] + sent["llama"])},
		{fmt.Sprintf(`sum(inference_objective_running_requests{%s})`, sel), 0},
	}
	for _, c := range checks {
		got, n, err := f.prom.sumOf(c.query)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || got != c.want {
			t.Errorf("%s = %v (%d series), want %v", c.query, got, n, c.want)
		}
	}
}

// checkPool checks the inference_pool_* gauges.
func (f *fixture) checkPool(t *testing.T) {
	sel := fmt.Sprintf(`cluster=%q, namespace=%q, name=%q`, testCluster, testNamespace, poolName)
	ready := fmt.Sprintf(`inference_pool_ready_pods{%s}`, sel)
	eventually(t, 10*time.Second, "both endpoints ready", func() error {
		got, n, err := f.prom.sumOf(ready)
		if err != nil {
			return err
		}
		if n != 1 || got != float64(len(f.sims)) {
			return fmt.Errorf("%s = %v (%d series), want %d", ready, got, n, len(f.sims))
		}
		return nil
	})
	perPod, err := f.prom.query(fmt.Sprintf(`inference_pool_per_pod_queue_size{%s}`, sel))
	if err != nil {
		t.Fatal(err)
	}
	var pods []string
	for _, s := range perPod {
		pods = append(pods, s.Metric["model_server_pod"])
	}
	slices.Sort(pods)
	if want := []string{"sim-a", "sim-b"}; !slices.Equal(pods, want) {
		t.Errorf("per_pod_queue_size model_server_pod labels = %v, want %v", pods, want)
	}
	for _, gauge := range []string{"inference_pool_average_kv_cache_utilization", "inference_pool_average_queue_size", "inference_pool_average_running_requests"} {
		res, err := f.prom.query(fmt.Sprintf(`%s{%s}`, gauge, sel))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Value < 0 || math.IsNaN(res[0].Value) {
			t.Errorf("%s = %v, want one series with a value >= 0", gauge, res)
		}
	}
}

// checkNoExportedLabels checks that no gateway series had a label renamed to
// exported_<name> because the exporter itself set a label the scraper owns.
func (f *fixture) checkNoExportedLabels(t *testing.T) {
	for _, l := range []string{"namespace", "cluster", "pod", "job", "instance", "location", "project_id", "container"} {
		q := fmt.Sprintf(`count({job=%q, exported_%s=~".+"})`, gmpJob, l)
		res, err := f.prom.query(q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 0 {
			t.Errorf("%s = %v: the exporter emits a %q label that collides with the target's", q, res[0].Value, l)
		}
	}
}

// checkWrongToken checks that a scrape with the wrong token is visible as a
// down target whose last error is the 401, not as silently missing data.
func (f *fixture) checkWrongToken(t *testing.T) {
	eventually(t, 15*time.Second, "the wrong-token target to be down with a 401", func() error {
		tgs, err := f.prom.targets("wrong-token")
		if err != nil {
			return err
		}
		if len(tgs) != 1 {
			return fmt.Errorf("%d wrong-token targets, want 1", len(tgs))
		}
		if tgs[0].Health != "down" || !strings.Contains(tgs[0].LastError, "401") {
			return fmt.Errorf("health %q, last error %q; want down with a 401", tgs[0].Health, tgs[0].LastError)
		}
		return nil
	})
	if got, n, err := f.prom.sumOf(`up{job="wrong-token"}`); err != nil || n != 1 || got != 0 {
		t.Errorf(`up{job="wrong-token"} = %v (%d series, err %v), want one series at 0`, got, n, err)
	}
	tgs, err := f.prom.targets("ClusterPodMonitoring/" + gmpJob + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs) != 1 || tgs[0].Health != "up" {
		t.Errorf("gateway target = %+v, want one target up", tgs)
	}
}

// checkPromtoolMetrics lints the gateway's exposition with promtool (exit
// status 3 would mean lint problems).
func (f *fixture) checkPromtoolMetrics(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://"+f.gw.MetricsAddr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.gw.Token)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exposition, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, family := range []string{"inference_objective_request_total", "inference_pool_ready_pods", "inference_extension_info"} {
		if !strings.Contains(string(exposition), "# TYPE "+family+" ") {
			t.Errorf("exposition lacks %s", family)
		}
	}
	out, code := runCmd(t, exposition, f.promtool, "check", "metrics")
	if code != 0 {
		// llm-d's prefix reads as a unit ("_d_", days) to the linter; those
		// names are upstream's and cannot change. Anything else fails.
		var problems []string
		for line := range strings.Lines(out) {
			line = strings.TrimSpace(line)
			if line == "" || (strings.HasPrefix(line, "llm_d_epp_") && strings.HasSuffix(line, "should not contain abbreviated units")) {
				continue
			}
			problems = append(problems, line)
		}
		if len(problems) > 0 {
			t.Errorf("promtool check metrics exited %d:\n%s", code, strings.Join(problems, "\n"))
		}
	}
}

// checkRules waits until Prometheus has evaluated every alert rule from
// deploy/alerts without error against the live series.
func (f *fixture) checkRules(t *testing.T) {
	eventually(t, 15*time.Second, "every alert rule evaluated", func() error {
		rules, err := f.prom.rules()
		if err != nil {
			return err
		}
		if len(rules) < 7 {
			return fmt.Errorf("%d rules loaded, want 7", len(rules))
		}
		for _, r := range rules {
			if r.Health == "err" {
				t.Fatalf("rule %s fails: %s", r.Name, r.LastError)
			}
			if r.Health != "ok" {
				return fmt.Errorf("rule %s health %q", r.Name, r.Health)
			}
		}
		return nil
	})
}
