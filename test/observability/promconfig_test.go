package observability

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite deploy/monitoring/prometheus-scrape-config.yaml from `infergate monitoring prometheus-config`")

// goldenScrapeConfig is the self-run Prometheus configuration shipped in
// deploy/, generated from Google's ClusterPodMonitoring with the default
// options.
const goldenScrapeConfig = "../../deploy/monitoring/prometheus-scrape-config.yaml"

// requireUpstreamPromtool returns an upstream promtool build. Debian's
// prometheus package is built without Kubernetes service discovery, so its
// promtool rejects kubernetes_sd_configs; `make tools` builds promtool from
// the Prometheus Go module into ~/.cache/infergate/bin and exports its path
// as INFERGATE_UPSTREAM_PROMTOOL.
func requireUpstreamPromtool(t *testing.T) string {
	t.Helper()
	path := os.Getenv("INFERGATE_UPSTREAM_PROMTOOL")
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			matches, _ := filepath.Glob(filepath.Join(home, ".cache", "infergate", "bin", "promtool-v*"))
			if len(matches) > 0 {
				slices.Sort(matches)
				path = matches[len(matches)-1]
			}
		}
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	const hint = "run `make tools` to build promtool with Kubernetes discovery from the Prometheus Go module"
	if os.Getenv("CI") == "true" {
		t.Fatalf("upstream promtool not found (INFERGATE_UPSTREAM_PROMTOOL=%q; CI=true, so this fails instead of skipping); %s", path, hint)
	}
	t.Skipf("upstream promtool not found (INFERGATE_UPSTREAM_PROMTOOL=%q); %s", path, hint)
	return ""
}

// TestPrometheusConfigGolden keeps deploy/monitoring's scrape configuration
// equal to what the command generates from the embedded ClusterPodMonitoring.
func TestPrometheusConfigGolden(t *testing.T) {
	out, code := runCmd(t, nil, binPath, "monitoring", "prometheus-config")
	if code != 0 {
		t.Fatalf("infergate monitoring prometheus-config exited %d:\n%s", code, out)
	}
	if *update {
		if err := os.WriteFile(goldenScrapeConfig, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenScrapeConfig)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("%s is stale (-file +generated); regenerate with go test ./test/observability -run Golden -update:\n%s", goldenScrapeConfig, diff)
	}
	for _, want := range []string{
		"job_name: ClusterPodMonitoring/inference-optimized-gateway-monitoring/metrics",
		"scrape_interval: 5s",
		"type: Bearer",
		"credentials_file: /etc/prometheus/secrets/inference-gateway-sa-metrics-reader-secret/token",
		"role: pod",
		"source_labels: [__meta_kubernetes_pod_label_app]",
		"regex: inference-gateway-ext-proc",
		"replacement: inference-optimized-gateway-monitoring",
		"source_labels: [__meta_kubernetes_pod_container_port_name]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("generated config lacks %q", want)
		}
	}
}

// richMonitoring exercises every field the converter maps.
const richMonitoring = `apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata:
  name: rich
  namespace: serving
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: infergate
    matchExpressions:
    - {key: tier, operator: In, values: [gateway, edge]}
    - {key: canary, operator: DoesNotExist}
  targetLabels:
    metadata: [pod, container, node]
    fromPod:
    - {from: app.kubernetes.io/version, to: version}
  limits: {samples: 50000, labels: 40}
  filterRunning: false
  endpoints:
  - port: metrics
    interval: 10s
    timeout: 4s
    params: {"name[]": [inference_objective_request_total]}
    authorization:
      credentials:
        secret: {name: reader, key: token}
    metricRelabeling:
    - {action: drop, sourceLabels: [__name__], regex: go_.*}
  - port: https-metrics
    scheme: https
    interval: 30s
    tls:
      serverName: gateway.serving.svc
      minVersion: TLS12
      ca: {secret: {name: tls, key: ca.crt}}
      cert: {secret: {name: tls, key: tls.crt}}
      key: {secret: {name: tls, key: tls.key}}
    basicAuth:
      username: prom
      password: {secret: {name: basic, key: password}}
`

// TestPrometheusConfigPassesPromtool renders Google's ClusterPodMonitoring,
// the PodMonitoring variant and an object using every mapped field, and
// checks each output with an upstream `promtool check config` (which opens
// the credential files, so they are created first).
// TestPrometheusConfigFileArguments checks `monitoring prometheus-config`
// takes files as arguments exactly as with -f, and both together.
func TestPrometheusConfigFileArguments(t *testing.T) {
	const podMonitoring = "../../deploy/monitoring/podmonitoring.yaml"
	withFlag, code := runCmd(t, nil, binPath, "monitoring", "prometheus-config", "-f", podMonitoring)
	if code != 0 {
		t.Fatalf("prometheus-config -f exited %d:\n%s", code, withFlag)
	}
	asArg, code := runCmd(t, nil, binPath, "monitoring", "prometheus-config", podMonitoring)
	if code != 0 {
		t.Fatalf("prometheus-config FILE exited %d:\n%s", code, asArg)
	}
	if !strings.Contains(asArg, "job_name: PodMonitoring/default/inference-optimized-gateway-monitoring/metrics") {
		t.Errorf("the file given as an argument was not rendered:\n%s", asArg)
	}
	if diff := cmp.Diff(withFlag, asArg); diff != "" {
		t.Errorf("FILE and -f FILE differ (-flag +argument):\n%s", diff)
	}
	both, code := runCmd(t, nil, binPath, "monitoring", "prometheus-config", "-f", podMonitoring, "../../deploy/monitoring/clusterpodmonitoring.yaml")
	if code != 0 || !strings.Contains(both, "job_name: PodMonitoring/") || !strings.Contains(both, "job_name: ClusterPodMonitoring/") {
		t.Errorf("-f FILE plus FILE (exit %d) did not render both objects:\n%s", code, both)
	}
}

func TestPrometheusConfigPassesPromtool(t *testing.T) {
	promtool := requireUpstreamPromtool(t)
	dir := t.TempDir()
	rich := filepath.Join(dir, "rich.yaml")
	if err := os.WriteFile(rich, []byte(richMonitoring), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "secrets")
	for _, f := range []string{
		"inference-gateway-sa-metrics-reader-secret/token", "reader/token", "tls/ca.crt", "tls/tls.crt", "tls/tls.key", "basic/password",
	} {
		path := filepath.Join(secrets, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "embedded ClusterPodMonitoring",
			args: []string{"--cluster", "c1", "--location", "us-central1", "--project-id", "p1"},
			want: []string{"target_label: cluster", "replacement: c1", "target_label: project_id"},
		},
		{
			name: "PodMonitoring variant",
			args: []string{"-f", "../../deploy/monitoring/podmonitoring.yaml"},
			want: []string{"job_name: PodMonitoring/default/inference-optimized-gateway-monitoring/metrics", "names: [default]"},
		},
		{
			name: "file as an argument",
			args: []string{"../../deploy/monitoring/podmonitoring.yaml"},
			want: []string{"job_name: PodMonitoring/default/inference-optimized-gateway-monitoring/metrics", "names: [default]"},
		},
		{
			name: "files as arguments and with -f",
			args: []string{"-f", rich, "../../deploy/monitoring/podmonitoring.yaml"},
			want: []string{"job_name: PodMonitoring/serving/rich/metrics", "job_name: PodMonitoring/default/inference-optimized-gateway-monitoring/metrics"},
		},
		{
			name: "every mapped field",
			args: []string{"-f", rich},
			want: []string{
				"job_name: PodMonitoring/serving/rich/metrics", "job_name: PodMonitoring/serving/rich/https-metrics",
				"sample_limit: 50000", "password_file: " + filepath.Join(secrets, "basic/password"),
				"target_label: version", "__meta_kubernetes_pod_labelpresent_canary", "regex: gateway|edge",
				"ca_file: " + filepath.Join(secrets, "tls/ca.crt"), "min_version: TLS12",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "prometheus.yml")
			args := append([]string{"monitoring", "prometheus-config", "--secrets-dir", secrets, "-o", out}, tc.args...)
			if msg, code := runCmd(t, nil, binPath, args...); code != 0 {
				t.Fatalf("infergate %v exited %d:\n%s", args, code, msg)
			}
			cfg, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(cfg), w) {
					t.Errorf("generated config lacks %q:\n%s", w, cfg)
				}
			}
			if msg, code := runCmd(t, nil, promtool, "check", "config", out); code != 0 {
				t.Errorf("promtool check config exited %d:\n%s\nconfig:\n%s", code, msg, cfg)
			}
		})
	}
}

// TestMonitoringValidateCommand runs `infergate monitoring validate` on the
// shipped objects and on broken ones.
func TestMonitoringValidateCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The documentation bug the research notes: authorization's fields
	// dedented to the endpoint, so no token would be sent.
	dedented := write("dedented.yaml", `apiVersion: monitoring.googleapis.com/v1
kind: ClusterPodMonitoring
metadata:
  name: inference-optimized-gateway-monitoring
spec:
  selector:
    matchLabels: {app: inference-gateway-ext-proc}
  endpoints:
  - port: metrics
    interval: 5s
    timeout: 10s
    authorization:
    type: Bearer
    credentials:
      secret: {name: inference-gateway-sa-metrics-reader-secret, key: token}
`)
	secretOnly := write("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string
	}{
		{name: "shipped objects", wantCode: 0, want: []string{"3 monitoring object(s) valid"}},
		{
			name: "dedented authorization", args: []string{"-f", dedented}, wantCode: 1,
			want: []string{
				"spec.endpoints[0].type: unknown field",
				"spec.endpoints[0].credentials: unknown field",
				"spec.endpoints[0].timeout: 10s is longer than the interval 5s",
				"3 problem(s) in 1 monitoring object(s)",
			},
		},
		{
			name: "standard input", args: []string{"-f", "-"}, wantCode: 1,
			stdin: "apiVersion: monitoring.googleapis.com/v1\nkind: PodMonitoring\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: a}}\n  endpoints: [{port: 9090, interval: 5s}]\n",
			want:  []string{"PodMonitoring/x (<stdin>#1): spec.endpoints[0].port: is the number 9090; name the port instead"},
		},
		{name: "no monitoring objects", args: []string{"-f", secretOnly}, wantCode: 1, want: []string{"skipping Secret/s", "no ClusterPodMonitoring, PodMonitoring or ServiceMonitor objects found"}},
		{
			name: "files as arguments", args: []string{dedented, "../../deploy/monitoring/podmonitoring.yaml"}, wantCode: 1,
			want: []string{"spec.endpoints[0].timeout: 10s is longer than the interval 5s", "3 problem(s) in 2 monitoring object(s)"},
		},
		{name: "standard input as an argument", args: []string{"-"}, stdin: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", wantCode: 1, want: []string{"skipping Secret/s (<stdin>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdin []byte
			if tc.stdin != "" {
				stdin = []byte(tc.stdin)
			}
			out, code := runCmd(t, stdin, binPath, append([]string{"monitoring", "validate"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d:\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestLocalPrometheusConfig checks deploy/monitoring/prometheus-local.yaml
// (a static scrape of a gateway on this machine) with Debian's promtool, in
// a copy of the repository layout where the demo's token file exists.
func TestLocalPrometheusConfig(t *testing.T) {
	_, promtool := requirePrometheus(t)
	root := t.TempDir()
	for _, f := range []string{"deploy/monitoring/prometheus-local.yaml", "deploy/alerts/infergate-alerts.yaml"} {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "infergate-demo.token"), []byte("demo-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runCmd(t, nil, promtool, "check", "config", filepath.Join(root, "deploy/monitoring/prometheus-local.yaml"))
	if code != 0 {
		t.Fatalf("promtool check config exited %d:\n%s", code, out)
	}
	rules, err := os.ReadFile("../../deploy/alerts/infergate-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d rules found", strings.Count(string(rules), "- alert: ")); !strings.Contains(out, want) {
		t.Errorf("the alert rules were not loaded (want %q):\n%s", want, out)
	}
}
