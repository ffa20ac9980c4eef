package monitoring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// gmp renders a GMP object of kind with the given endpoint list and extra
// spec lines.
func gmp(kind, endpoints, extraSpec string) string {
	return fmt.Sprintf(`apiVersion: monitoring.googleapis.com/v1
kind: %s
metadata:
  name: gw
spec:
  selector:
    matchLabels: {app: inference-gateway-ext-proc}
%s  endpoints:
%s`, kind, extraSpec, endpoints)
}

// ep is a valid endpoint with extra lines appended (indented under it).
func ep(extra string) string {
	return "  - port: metrics\n    interval: 5s\n" + extra
}

func TestValidate(t *testing.T) {
	cpm := func(endpoints, extra string) string { return gmp(KindClusterPodMonitoring, endpoints, extra) }
	pm := func(endpoints, extra string) string { return gmp(KindPodMonitoring, endpoints, extra) }
	tests := []struct {
		name  string
		input string
		// want lists "field: message fragment" for each expected problem,
		// in order; empty means valid.
		want []string
	}{
		{name: "google object", input: googleCPM},
		{name: "minimal", input: cpm(ep(""), "")},
		{name: "timeout equal to interval", input: cpm(ep("    timeout: 5s\n"), "")},
		{
			name:  "timeout longer than interval",
			input: cpm(ep("    timeout: 6s\n"), ""),
			want:  []string{"spec.endpoints[0].timeout: 6s is longer than the interval 5s"},
		},
		{
			name:  "bad durations",
			input: cpm("  - port: metrics\n    interval: 5 seconds\n    timeout: 0s\n", ""),
			want:  []string{"spec.endpoints[0].interval: \"5 seconds\" is not a Prometheus duration", "spec.endpoints[0].timeout: must be greater than zero"},
		},
		{
			name:  "missing interval and port",
			input: cpm("  - path: /metrics\n", ""),
			want:  []string{"spec.endpoints[0].port: is required", "spec.endpoints[0].interval: is required"},
		},
		{
			name: "eleven endpoints",
			input: cpm(strings.Repeat(ep(""), 1)+func() string {
				var b strings.Builder
				for i := range 10 {
					fmt.Fprintf(&b, "  - port: m%d\n    interval: 5s\n", i)
				}
				return b.String()
			}(), ""),
			want: []string{"spec.endpoints: has 11 endpoints; Managed Prometheus allows at most 10"},
		},
		{name: "no endpoints", input: cpm("    []\n", ""), want: []string{"spec.endpoints: at least one endpoint is required"}},
		{
			name:  "numeric port",
			input: cpm("  - port: 9090\n    interval: 5s\n", ""),
			want:  []string{"spec.endpoints[0].port: is the number 9090; name the port instead"},
		},
		{
			name:  "impossible port name",
			input: cpm("  - port: Metrics_Port_Too_Long\n    interval: 5s\n", ""),
			want:  []string{`spec.endpoints[0].port: "Metrics_Port_Too_Long" cannot name a container port`},
		},
		{
			name:  "same port twice",
			input: cpm(ep("")+ep("    path: /other\n"), ""),
			want:  []string{"spec.endpoints[1].port: port metrics is also scraped by spec.endpoints[0]"},
		},
		{
			name:  "scheme and path",
			input: cpm(ep("    scheme: HTTP\n    path: metrics\n"), ""),
			want:  []string{`spec.endpoints[0].scheme: is "HTTP"`, `spec.endpoints[0].path: "metrics" must start with '/'`},
		},
		{
			name:  "relabel writes protected label",
			input: cpm(ep("    metricRelabeling:\n    - {action: replace, sourceLabels: [pod], targetLabel: namespace}\n    - {sourceLabels: [x], targetLabel: job}\n"), ""),
			want: []string{
				`spec.endpoints[0].metricRelabeling[0].targetLabel: "namespace" is a protected label`,
				`spec.endpoints[0].metricRelabeling[1].targetLabel: "job" is a protected label`,
			},
		},
		{
			name:  "labelmap",
			input: cpm(ep("    metricRelabeling:\n    - {action: LabelMap, regex: foo_(.+)}\n"), ""),
			want:  []string{"spec.endpoints[0].metricRelabeling[0].action: labelmap is not allowed by Managed Prometheus"},
		},
		{
			name:  "labeldrop and labelkeep of protected labels",
			input: cpm(ep("    metricRelabeling:\n    - {action: labeldrop, regex: clust.*}\n    - {action: labelkeep, regex: model_name|le}\n    - {action: labeldrop, regex: pod_name}\n"), ""),
			want: []string{
				`spec.endpoints[0].metricRelabeling[0].regex: "clust.*" would drop the protected label "cluster"`,
				`spec.endpoints[0].metricRelabeling[1].regex: "model_name|le" does not keep the protected label`,
			},
		},
		{
			name:  "bad relabel rules",
			input: cpm(ep("    metricRelabeling:\n    - {action: hashmod, targetLabel: shard}\n    - {action: explode}\n    - {action: drop, regex: '(', sourceLabels: [__name__]}\n    - {action: keep, sourceLabels: [bad-label]}\n"), ""),
			want: []string{
				"spec.endpoints[0].metricRelabeling[0].modulus: must be greater than zero",
				`spec.endpoints[0].metricRelabeling[1].action: "explode" is not a relabeling action`,
				`spec.endpoints[0].metricRelabeling[2].regex: "(" does not compile`,
				`spec.endpoints[0].metricRelabeling[3].sourceLabels: "bad-label" is not a Prometheus label name`,
			},
		},
		{
			name:  "authorization without credentials",
			input: cpm(ep("    authorization: {type: Bearer}\n"), ""),
			want:  []string{"spec.endpoints[0].authorization.credentials: is missing, so no token is sent"},
		},
		{
			name:  "basic authorization type",
			input: cpm(ep("    authorization: {type: Basic, credentials: {secret: {name: s, key: k}}}\n"), ""),
			want:  []string{"spec.endpoints[0].authorization.type: Basic is refused here"},
		},
		{
			name:  "malformed secret reference",
			input: cpm(ep("    authorization:\n      credentials:\n        secret: {name: Bad_Name, key: 'to ken', namespace: Default}\n"), ""),
			want: []string{
				`spec.endpoints[0].authorization.credentials.secret.name: "Bad_Name" is not a valid Secret name`,
				`spec.endpoints[0].authorization.credentials.secret.key: "to ken" is not a valid Secret key`,
				`spec.endpoints[0].authorization.credentials.secret.namespace: "Default" is not a valid namespace name`,
			},
		},
		{
			name:  "secret without name and key",
			input: cpm(ep("    authorization:\n      credentials:\n        secret: {}\n"), ""),
			want:  []string{"credentials.secret.name: is required", "credentials.secret.key: is required"},
		},
		{
			name:  "credentials without secret",
			input: cpm(ep("    authorization:\n      credentials: {}\n"), ""),
			want:  []string{"spec.endpoints[0].authorization.credentials.secret: is missing"},
		},
		{
			name:  "secret namespace in a PodMonitoring",
			input: pm(ep("    authorization:\n      credentials:\n        secret: {name: s, key: token, namespace: default}\n"), ""),
			want:  []string{"spec.endpoints[0].authorization.credentials.secret.namespace: is not allowed in a PodMonitoring"},
		},
		{name: "secret without namespace in a PodMonitoring", input: pm(ep("    authorization:\n      credentials:\n        secret: {name: s, key: token}\n"), "")},
		{
			name:  "two kinds of auth",
			input: cpm(ep("    authorization: {credentials: {secret: {name: s, key: t}}}\n    basicAuth: {username: u, password: {secret: {name: s, key: p}}}\n"), ""),
			want:  []string{"spec.endpoints[0]: sets more than one of authorization, basicAuth and oauth2"},
		},
		{
			name:  "tls problems",
			input: cpm(ep("    tls:\n      minVersion: TLS1.2\n      cert: {secret: {name: s, key: c}}\n"), ""),
			want: []string{
				`spec.endpoints[0].tls.minVersion: "TLS1.2" is not one of`,
				"spec.endpoints[0].tls: cert and key must be set together",
				"spec.endpoints[0].tls: is set but the scheme is not https",
			},
		},
		{
			name:  "proxy url with credentials",
			input: cpm(ep("    proxyUrl: http://user:pw@proxy:3128\n"), ""),
			want:  []string{"spec.endpoints[0].proxyUrl: must not carry credentials"},
		},
		{
			name:  "oauth2 without token url",
			input: cpm(ep("    oauth2: {clientID: c}\n"), ""),
			want:  []string{"spec.endpoints[0].oauth2.tokenURL: is required"},
		},
		{
			name:  "empty selector",
			input: "apiVersion: monitoring.googleapis.com/v1\nkind: ClusterPodMonitoring\nmetadata: {name: gw}\nspec:\n  selector: {}\n  endpoints:\n" + ep(""),
			want:  []string{"spec.selector: is empty, which selects every pod"},
		},
		{
			name:  "selector expressions",
			input: "apiVersion: monitoring.googleapis.com/v1\nkind: ClusterPodMonitoring\nmetadata: {name: gw}\nspec:\n  selector:\n    matchLabels: {'bad key!': x, app: 'not valid!'}\n    matchExpressions:\n    - {key: tier, operator: In}\n    - {key: tier, operator: Exists, values: [x]}\n    - {key: tier, operator: Like, values: [x]}\n  endpoints:\n" + ep(""),
			want: []string{
				`spec.selector.matchLabels.app: value "not valid!" is not a valid label value`,
				`spec.selector.matchLabels: key "bad key!" is not a valid label key`,
				"spec.selector.matchExpressions[0].values: operator In needs at least one value",
				"spec.selector.matchExpressions[1].values: operator Exists takes no values",
				`spec.selector.matchExpressions[2].operator: "Like" is not one of`,
			},
		},
		{
			name:  "target labels",
			input: pm(ep(""), "  targetLabels:\n    metadata: [pod, namespace]\n    fromPod:\n    - {from: team, to: cluster}\n    - {from: app.kubernetes.io/name, to: 9app}\n"),
			want: []string{
				`spec.targetLabels.metadata[1]: "namespace" is not allowed for a PodMonitoring`,
				`spec.targetLabels.fromPod[0].to: "cluster" is a protected label`,
				`spec.targetLabels.fromPod[1].to: "9app" is not a Prometheus label name`,
			},
		},
		{name: "namespace metadata allowed in a ClusterPodMonitoring", input: cpm(ep(""), "  targetLabels: {metadata: [namespace, node]}\n")},
		{
			name:  "unknown fields from a dedented authorization block",
			input: cpm(ep("    authorization:\n    type: Bearer\n    credentials:\n      secret: {name: s, key: token}\n"), ""),
			want: []string{
				"spec.endpoints[0].type: unknown field on line 12",
				"spec.endpoints[0].credentials: unknown field on line 13",
			},
		},
		{
			name:  "typo suggests the field",
			input: cpm(ep("    intervall: 10s\n"), ""),
			want:  []string{`spec.endpoints[0].intervall: unknown field on line 11; the API server prunes it (kubectl at most warns), so it has no effect (did you mean "interval"?)`},
		},
		{
			name:  "wrong value type",
			input: cpm(ep("    params: nope\n"), ""),
			want:  []string{"cannot unmarshal !!str `nope`"},
		},
		{
			name:  "wrong api version and bad names",
			input: strings.Replace(strings.Replace(cpm(ep(""), ""), "monitoring.googleapis.com/v1", "monitoring.googleapis.com/v1alpha1", 1), "name: gw", "name: GW", 1),
			want: []string{
				`apiVersion: is "monitoring.googleapis.com/v1alpha1"`,
				`metadata.name: "GW" is not a valid object name`,
			},
		},
		{
			name:  "same object twice",
			input: cpm(ep(""), "") + "---\n" + cpm(ep(""), ""),
			want:  []string{"metadata.name: another ClusterPodMonitoring has the same name (in.yaml#1)"},
		},
		{name: "other kinds are ignored", input: "apiVersion: v1\nkind: Secret\nmetadata: {name: Not_Valid}\nstringData: {token: x}\n"},
		{
			name: "service monitor",
			input: `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: gw, namespace: default}
spec:
  selector: {matchLabels: {app: inference-gateway-ext-proc}}
  endpoints:
  - port: metrics
    interval: 5s
    scrapeTimeout: 10s
    authorization: {credentials: {name: s}}
    bearerTokenFile: /var/run/token
    relabelings:
    - {action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}
    - {action: nope}
  - path: /metrics
`,
			want: []string{
				"spec.endpoints[0].scrapeTimeout: 10s is longer than the interval 5s",
				"spec.endpoints[0].authorization.credentials.key: is required",
				"spec.endpoints[0].bearerTokenFile: is deprecated",
				`spec.endpoints[0].relabelings[1].action: "nope" is not a relabeling action`,
				"spec.endpoints[1].port: is required",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse("in.yaml", []byte(tc.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			problems := Validate(objs)
			var got []string
			for _, p := range problems {
				got = append(got, strings.TrimPrefix(p.String(), p.Object+": "))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestProblemObjectNames(t *testing.T) {
	in := gmp(KindPodMonitoring, "  - port: 9090\n    interval: 5s\n", "")
	in = strings.Replace(in, "name: gw", "name: gw\n  namespace: serving", 1)
	objs, err := Parse("pm.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := Validate(objs)
	want := []Problem{{
		Object:  "PodMonitoring/serving/gw (pm.yaml#1)",
		Field:   "spec.endpoints[0].port",
		Message: `is the number 9090; name the port instead (the gateway's container port is named "metrics"): with a number GMP scrapes <pod IP>:9090 on every selected pod whether or not a container declares it, and drops the container label`,
	}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
}
