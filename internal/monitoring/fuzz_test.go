package monitoring

import (
	"io/fs"
	"testing"

	"gopkg.in/yaml.v3"

	deploymonitoring "github.com/infergate/infergate/deploy/monitoring"
)

// FuzzParse checks that Parse and Validate never panic on arbitrary bytes,
// and that objects Validate accepts always render as a scrape configuration
// that parses back.
//
//	go test ./internal/monitoring -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, name := range deploymonitoring.Files() {
		data, err := fs.ReadFile(deploymonitoring.Objects, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		googleCPM,
		"",
		"~",
		"- a",
		"kind: PodMonitoring",
		"kind: ClusterPodMonitoring\nspec: []\n",
		"kind: ServiceMonitor\nspec: {endpoints: [{targetPort: 9090}, {port: [x]}]}\n",
		"kind: PodMonitoring\nspec: {endpoints: [{port: 99999999999}, {port: {a: b}}], targetLabels: {metadata: null}}\n",
		"kind: ClusterPodMonitoring\nspec: {selector: {matchExpressions: [{key: a, operator: In, values: ['(']}]}, endpoints: [{port: m, interval: 1s, metricRelabeling: [{action: labeldrop, regex: '['}]}]}\n",
		"a: &a [*a, *a]\n",
		"kind: PodMonitoring\nmetadata: {name: x}\nspec:\n  endpoints:\n  - port: metrics\n    interval: 5s\n    authorization:\n    type: Bearer\n",
		googleCPM + "---\n" + googleCPM,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		problems := Validate(objs)
		for _, p := range problems {
			if p.Object == "" || p.Message == "" {
				t.Fatalf("problem without object or message: %+v", p)
			}
		}
		if len(problems) > 0 {
			return
		}
		hasPod := false
		for _, o := range objs {
			hasPod = hasPod || o.Pod != nil
		}
		if !hasPod {
			return
		}
		out, err := PrometheusConfig(objs, ScrapeOptions{Cluster: "c"})
		if err != nil {
			t.Fatalf("valid objects do not render: %v", err)
		}
		var cfg promConfig
		if err := yaml.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("rendered config does not parse: %v\n%s", err, out)
		}
		for _, sc := range cfg.ScrapeConfigs {
			for _, r := range sc.RelabelConfigs {
				if _, err := compileAnchored(r.Regex); err != nil {
					t.Fatalf("rendered regex %q does not compile: %v", r.Regex, err)
				}
			}
		}
	})
}
