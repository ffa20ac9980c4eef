package observability

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAlertRules checks deploy/alerts with promtool: the rule files parse
// and lint (check rules), and the unit tests in deploy/alerts/tests pass
// (test rules), each alert firing on a bad series, staying quiet on a
// healthy one and waiting for its `for` duration.
func TestAlertRules(t *testing.T) {
	_, promtool := requirePrometheus(t)
	rules, err := filepath.Glob("../../deploy/alerts/*.yaml")
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in deploy/alerts (%v)", err)
	}
	tests, err := filepath.Glob("../../deploy/alerts/tests/*.yaml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests in deploy/alerts/tests (%v)", err)
	}
	t.Run("check rules", func(t *testing.T) {
		out, code := runCmd(t, nil, promtool, append([]string{"check", "rules"}, rules...)...)
		if code != 0 || !strings.Contains(out, "SUCCESS") {
			t.Fatalf("promtool check rules exited %d:\n%s", code, out)
		}
	})
	t.Run("test rules", func(t *testing.T) {
		out, code := runCmd(t, nil, promtool, append([]string{"test", "rules"}, tests...)...)
		if code != 0 || !strings.Contains(out, "SUCCESS") {
			t.Fatalf("promtool test rules exited %d:\n%s", code, out)
		}
	})
}
