package monitoring

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// relabel applies target relabeling rules the way Prometheus does for the
// actions the generated configs use, then drops the "__" labels. It returns
// nil when the target is dropped.
func relabel(t *testing.T, in map[string]string, rules []relabelConfig) map[string]string {
	t.Helper()
	l := maps.Clone(in)
	for _, r := range rules {
		re := regexp.MustCompile("^(?s:" + orDefault(r.Regex, "(.*)") + ")$")
		vals := make([]string, len(r.SourceLabels))
		for i, s := range r.SourceLabels {
			vals[i] = l[s]
		}
		val := strings.Join(vals, orDefault(r.Separator, ";"))
		switch r.Action {
		case "replace":
			m := re.FindStringSubmatchIndex(val)
			if m == nil {
				continue
			}
			res := string(re.ExpandString(nil, orDefault(r.Replacement, "$1"), val, m))
			if res == "" {
				delete(l, r.TargetLabel)
			} else {
				l[r.TargetLabel] = res
			}
		case "keep":
			if !re.MatchString(val) {
				return nil
			}
		case "drop":
			if re.MatchString(val) {
				return nil
			}
		case "labeldrop":
			for k := range l {
				if re.MatchString(k) {
					delete(l, k)
				}
			}
		default:
			t.Fatalf("relabel action %q not simulated", r.Action)
		}
	}
	out := map[string]string{}
	for k, v := range l {
		if !strings.HasPrefix(k, "__") {
			out[k] = v
		}
	}
	if _, ok := out["instance"]; !ok {
		out["instance"] = l["__address__"]
	}
	return out
}

// gatewayPod returns the discovery meta labels of a gateway pod created by
// a Deployment, one candidate per declared port.
func gatewayPod(port string) map[string]string {
	return map[string]string{
		"__address__":                          "10.0.0.5:9090",
		metaNamespace:                          "serving",
		metaPodName:                            "infergate-7d9f8c6b5-x2k4q",
		metaPodPhase:                           "Running",
		metaNodeName:                           "node-1",
		metaContainerName:                      "infergate",
		metaPortName:                           port,
		metaControllerKind:                     "ReplicaSet",
		metaControllerName:                     "infergate-7d9f8c6b5",
		metaLabel + "app":                      "inference-gateway-ext-proc",
		metaLabelPresent + "app":               "true",
		metaLabelPresent + "pod_template_hash": "true",
		metaLabel + "pod_template_hash":        "7d9f8c6b5",
	}
}

// with returns a copy of m with the given pairs set.
func with(m map[string]string, kv ...string) map[string]string {
	m = maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestPrometheusConfigLabelling(t *testing.T) {
	opts := ScrapeOptions{Cluster: "c1", Location: "us-central1", ProjectID: "p1"}
	gmpLabels := func(extra ...string) map[string]string {
		return with(map[string]string{
			"project_id": "p1", "location": "us-central1", "cluster": "c1",
			"namespace": "serving", "pod": "infergate-7d9f8c6b5-x2k4q", "container": "infergate",
			"top_level_controller_name": "infergate", "top_level_controller_type": "Deployment",
			"job": "inference-optimized-gateway-monitoring", "instance": "infergate-7d9f8c6b5-x2k4q:metrics",
		}, extra...)
	}
	namespaced := strings.Replace(strings.Replace(googleCPM, "ClusterPodMonitoring", "PodMonitoring", 1),
		"          namespace: default\n", "", 1)
	namespaced = strings.Replace(namespaced, "  name: inference-optimized-gateway-monitoring\n", "  name: inference-optimized-gateway-monitoring\n  namespace: serving\n", 1)
	tests := []struct {
		name   string
		object string
		pod    map[string]string
		want   map[string]string // nil: dropped
	}{
		{name: "gateway pod", object: googleCPM, pod: gatewayPod("metrics"), want: gmpLabels()},
		{name: "another port of the pod", object: googleCPM, pod: gatewayPod("grpc")},
		{name: "pod of another app", object: googleCPM, pod: with(gatewayPod("metrics"), metaLabel+"app", "vllm")},
		{name: "pod without the label", object: googleCPM, pod: with(gatewayPod("metrics"), metaLabel+"app", "", metaLabelPresent+"app", "")},
		{name: "failed pod", object: googleCPM, pod: with(gatewayPod("metrics"), metaPodPhase, "Failed")},
		{
			name: "daemonset pod", object: googleCPM,
			pod:  with(gatewayPod("metrics"), metaControllerKind, "DaemonSet", metaControllerName, "infergate", metaLabelPresent+"pod_template_hash", ""),
			want: gmpLabels("instance", "node-1:metrics", "top_level_controller_type", "DaemonSet"),
		},
		{
			name: "cronjob pod", object: googleCPM,
			pod:  with(gatewayPod("metrics"), metaControllerKind, "Job", metaControllerName, "nightly-29123456", metaLabelPresent+"pod_template_hash", ""),
			want: gmpLabels("top_level_controller_name", "nightly", "top_level_controller_type", "CronJob"),
		},
		{name: "PodMonitoring, own namespace", object: namespaced, pod: gatewayPod("metrics"), want: gmpLabels()},
		{name: "PodMonitoring, other namespace", object: namespaced, pod: with(gatewayPod("metrics"), metaNamespace, "default")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse("in.yaml", []byte(tc.object))
			if err != nil {
				t.Fatal(err)
			}
			out, err := PrometheusConfig(objs, opts)
			if err != nil {
				t.Fatal(err)
			}
			var cfg promConfig
			if err := yaml.Unmarshal(out, &cfg); err != nil {
				t.Fatalf("generated config does not parse: %v\n%s", err, out)
			}
			if len(cfg.ScrapeConfigs) != 1 {
				t.Fatalf("%d scrape configs, want 1", len(cfg.ScrapeConfigs))
			}
			got := relabel(t, tc.pod, cfg.ScrapeConfigs[0].RelabelConfigs)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("target labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrometheusConfigScrapeOptions(t *testing.T) {
	objs, err := Parse("cpm.yaml", []byte(googleCPM))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts ScrapeOptions
		want scrapeConfigYAML
	}{
		{
			name: "defaults",
			want: scrapeConfigYAML{
				JobName: "ClusterPodMonitoring/inference-optimized-gateway-monitoring/metrics", ScrapeInterval: "5s", ScrapeTimeout: "5s",
				MetricsPath: "/metrics", Scheme: "http",
				Authorization:       &promAuthorization{Type: "Bearer", CredentialsFile: "/etc/prometheus/secrets/inference-gateway-sa-metrics-reader-secret/token"},
				KubernetesSDConfigs: []kubernetesSD{{Role: "pod"}},
			},
		},
		{
			name: "credentials file",
			opts: ScrapeOptions{CredentialsFile: "/var/run/token", SecretsDir: "/ignored"},
			want: scrapeConfigYAML{
				JobName: "ClusterPodMonitoring/inference-optimized-gateway-monitoring/metrics", ScrapeInterval: "5s", ScrapeTimeout: "5s",
				MetricsPath: "/metrics", Scheme: "http",
				Authorization:       &promAuthorization{Type: "Bearer", CredentialsFile: "/var/run/token"},
				KubernetesSDConfigs: []kubernetesSD{{Role: "pod"}},
			},
		},
		{
			name: "secrets dir",
			opts: ScrapeOptions{SecretsDir: "/mnt/secrets"},
			want: scrapeConfigYAML{
				JobName: "ClusterPodMonitoring/inference-optimized-gateway-monitoring/metrics", ScrapeInterval: "5s", ScrapeTimeout: "5s",
				MetricsPath: "/metrics", Scheme: "http",
				Authorization:       &promAuthorization{Type: "Bearer", CredentialsFile: "/mnt/secrets/inference-gateway-sa-metrics-reader-secret/token"},
				KubernetesSDConfigs: []kubernetesSD{{Role: "pod"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := PrometheusConfig(objs, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var cfg promConfig
			if err := yaml.Unmarshal(out, &cfg); err != nil {
				t.Fatal(err)
			}
			got := cfg.ScrapeConfigs[0]
			got.RelabelConfigs = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scrape config (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(out), "#   "+tc.want.Authorization.CredentialsFile+"\n") {
				t.Errorf("header does not list the credentials file:\n%s", out)
			}
		})
	}
}

func TestPrometheusConfigErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{name: "no GMP objects", input: "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: s}\nspec: {}\n", want: "no PodMonitoring or ClusterPodMonitoring"},
		{name: "invalid object", input: strings.Replace(googleCPM, "interval: 5s", "interval: 5s\n    timeout: 9s", 1), want: "timeout: 9s is longer than the interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse("in.yaml", []byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PrometheusConfig(objs, ScrapeOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPrometheusConfigEscapesConstants(t *testing.T) {
	objs, err := Parse("cpm.yaml", []byte(googleCPM))
	if err != nil {
		t.Fatal(err)
	}
	out, err := PrometheusConfig(objs, ScrapeOptions{Cluster: "a$1b"})
	if err != nil {
		t.Fatal(err)
	}
	var cfg promConfig
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	got := relabel(t, gatewayPod("metrics"), cfg.ScrapeConfigs[0].RelabelConfigs)
	if got["cluster"] != "a$1b" {
		t.Errorf("cluster = %q, want the literal a$1b", got["cluster"])
	}
}
