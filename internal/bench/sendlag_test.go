package bench

import (
	"strings"
	"testing"
)

// TestSendLagWarning checks that runs whose load generator fell behind
// its schedule are named under the tables, and that on-time runs are not.
func TestSendLagWarning(t *testing.T) {
	rep := &Report{Suite: "s", Scenarios: []*ScenarioResult{{
		Name: "tenants", Kind: KindRouting, TimeScale: 4,
		Runs: []*RunResult{
			{Strategy: "default@queue", Point: 20, SendLagMaxMs: 5144},
			{Strategy: "default@off", Point: 20, SendLagMaxMs: 97},
		},
	}}}
	for name, write := range map[string]func(*strings.Builder) error{
		"table":    func(b *strings.Builder) error { return WriteTable(b, rep) },
		"markdown": func(b *strings.Builder) error { return WriteMarkdown(b, rep) },
	} {
		var b strings.Builder
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "- tenants default@queue @20 (5.1 s)") {
			t.Errorf("%s: lagged run not named:\n%s", name, out)
		}
		if strings.Contains(out, "default@off @20 (") {
			t.Errorf("%s: on-time run named as lagged:\n%s", name, out)
		}
	}
	rep.Scenarios[0].Runs[0].SendLagMaxMs = MaxSendLagMs
	var b strings.Builder
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "WARNING") {
		t.Errorf("warning without a lagged run:\n%s", b.String())
	}
}
