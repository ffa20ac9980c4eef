package monitoring

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// googleCPM is the ClusterPodMonitoring from Google's guide.
const googleCPM = `apiVersion: monitoring.googleapis.com/v1
kind: ClusterPodMonitoring
metadata:
  name: inference-optimized-gateway-monitoring
  labels:
    app.kubernetes.io/name: inference-optimized-gateway
    app.kubernetes.io/part-of: google-cloud-managed-prometheus
spec:
  endpoints:
  - port: metrics
    scheme: http
    interval: 5s
    path: /metrics
    authorization:
      type: Bearer
      credentials:
        secret:
          name: inference-gateway-sa-metrics-reader-secret
          key: token
          namespace: default
  selector:
    matchLabels:
      app: inference-gateway-ext-proc
`

func TestParseGoogleObject(t *testing.T) {
	objs, err := Parse("cpm.yaml", []byte(googleCPM))
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{{
		Source:     "cpm.yaml#1",
		APIVersion: GMPAPIVersion,
		Kind:       KindClusterPodMonitoring,
		Metadata: ObjectMeta{
			Name: "inference-optimized-gateway-monitoring",
			Labels: map[string]string{
				"app.kubernetes.io/name":    "inference-optimized-gateway",
				"app.kubernetes.io/part-of": "google-cloud-managed-prometheus",
			},
		},
		Pod: &PodMonitoringSpec{
			Selector: LabelSelector{MatchLabels: map[string]string{"app": "inference-gateway-ext-proc"}},
			Endpoints: []ScrapeEndpoint{{
				Port:     Port{Name: "metrics"},
				Scheme:   "http",
				Path:     "/metrics",
				Interval: "5s",
				HTTPClientConfig: HTTPClientConfig{Authorization: &Authorization{
					Type: "Bearer",
					Credentials: &SecretSelector{Secret: &SecretKeySelector{
						Name: "inference-gateway-sa-metrics-reader-secret", Key: "token", Namespace: "default",
					}},
				}},
			}},
		},
	}}
	if diff := cmp.Diff(want, objs, cmp.AllowUnexported(Object{}, TargetLabels{})); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if p := Validate(objs); len(p) != 0 {
		t.Errorf("Validate(Google's object) = %v, want no problems", p)
	}
}

func TestParseDocuments(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantKinds []string
		wantErr   string
	}{
		{name: "empty input", input: ""},
		{name: "only separators and comments", input: "---\n# nothing\n---\n"},
		{
			name:      "several kinds",
			input:     "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n" + googleCPM + "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: sm}\nspec: {}\n",
			wantKinds: []string{"Secret", KindClusterPodMonitoring, KindServiceMonitor},
		},
		{name: "not a mapping", input: "- a\n- b\n", wantErr: "not a mapping"},
		{name: "not YAML", input: "a: [b\n", wantErr: "document 1"},
		{name: "too large", input: strings.Repeat("#", MaxInputBytes+1), wantErr: "more than the"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse("in.yaml", []byte(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.Kind)
			}
			if diff := cmp.Diff(tc.wantKinds, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Port
		wantProb   string
	}{
		{name: "name", yaml: "metrics", want: Port{Name: "metrics"}},
		{name: "number", yaml: "9090", want: Port{Number: 9090}},
		{name: "quoted number is a name", yaml: `"9090"`, want: Port{Name: "9090"}},
		{name: "too big", yaml: "99999999999", wantProb: "not a 32-bit number"},
		{name: "list", yaml: "[a]", wantProb: "port must be a name or a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "apiVersion: monitoring.googleapis.com/v1\nkind: PodMonitoring\nmetadata: {name: p}\nspec:\n  selector: {matchLabels: {a: b}}\n  endpoints:\n  - {port: " + tc.yaml + ", interval: 5s}\n"
			objs, err := Parse("p.yaml", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantProb != "" {
				if !strings.Contains(problemText(Validate(objs)), tc.wantProb) {
					t.Errorf("problems %q lack %q", problemText(Validate(objs)), tc.wantProb)
				}
				return
			}
			if got := objs[0].Pod.Endpoints[0].Port; got != tc.want {
				t.Errorf("port = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseExplicitNullMetadata(t *testing.T) {
	tests := []struct {
		name, targetLabels, kind string
		want                     []string
	}{
		{name: "unset, cluster", kind: KindClusterPodMonitoring, want: defaultMetadata(KindClusterPodMonitoring)},
		{name: "unset, namespaced", kind: KindPodMonitoring, want: defaultMetadata(KindPodMonitoring)},
		{name: "null, cluster", kind: KindClusterPodMonitoring, targetLabels: "  targetLabels: {metadata: null}\n", want: []string{"namespace"}},
		{name: "null, namespaced", kind: KindPodMonitoring, targetLabels: "  targetLabels: {metadata: ~}\n"},
		{name: "explicit", kind: KindPodMonitoring, targetLabels: "  targetLabels: {metadata: [node]}\n", want: []string{"node"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "apiVersion: monitoring.googleapis.com/v1\nkind: " + tc.kind + "\nmetadata: {name: p}\nspec:\n" + tc.targetLabels +
				"  selector: {matchLabels: {a: b}}\n  endpoints: [{port: metrics, interval: 5s}]\n"
			objs, err := Parse("p.yaml", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			got := objs[0].Pod.TargetLabels.effectiveMetadata(tc.kind)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("effective metadata (-want +got):\n%s", diff)
			}
		})
	}
}

// problemText joins problems one per line.
func problemText(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}
