package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics on arbitrary bytes, and that a
// configuration it accepts survives a YAML marshal and re-parse unchanged
// and still valid.
//
//	go test ./internal/config -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		minimalYAML,
		string(Example),
		"",
		"~",
		"- a",
		"Listen: ':1'\n" + minimalYAML,
		"scrape: {interval: 50, timeout: -1s}\n" + minimalYAML,
		"scheduler: {weights: {queue: .nan, kvCache: .inf, prefix: -0.0}}\n" + minimalYAML,
		minimalYAML + "models: [{name: m, targets: [&t {model: x, weight: 3}, {model: y}]}]\nobjectives: [*t]\n",
		minimalYAML + "objectives: [{name: o, priority: -1}]\nmodels: [{name: m, objective: o, targets: [{model: a, weight: 1000000}]}]\n",
		"pools: [{name: p, endpoints: [{address: '[fe80::1%eth0]:8000', name: \"\\0\"}]}]\nmetrics: {auth: {enabled: false}}\n",
		minimalYAML + "---\nlisten: ':1'\n",
		"a: &a [*a, *a]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal of a parsed config: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of the marshalled config: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("config changed in a marshal round trip (-first +second):\n%s", diff)
		}
	})
}
