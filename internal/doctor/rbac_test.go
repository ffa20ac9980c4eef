package doctor

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestRuleGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		rule                    rbacv1.PolicyRule
		wantMetrics, wantSecret bool
	}{
		{name: "the guide's /metrics rule", rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}, wantMetrics: true},
		{name: "a prefix wildcard", rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/metric*"}, Verbs: []string{"*"}}, wantMetrics: true},
		{name: "another path", rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/debug/*"}, Verbs: []string{"get"}}},
		{name: "post only", rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"post"}}},
		{name: "the guide's secret rule", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"},
			Verbs: []string{"get", "list", "watch"}, ResourceNames: []string{ReaderSecret}}, wantSecret: true},
		{name: "another secret", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"other"}}},
		{name: "everything", rule: rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get"}}, wantSecret: true},
		{name: "secrets of another group", rule: rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		{name: "list only", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := grantsMetrics(tc.rule); got != tc.wantMetrics {
				t.Errorf("grantsMetrics = %v, want %v", got, tc.wantMetrics)
			}
			if got := grantsSecret(ReaderSecret)(tc.rule); got != tc.wantSecret {
				t.Errorf("grantsSecret = %v, want %v", got, tc.wantSecret)
			}
		})
	}
}

func TestParseAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    account
		wantErr bool
	}{
		{in: DefaultCollector, want: account{namespace: "gmp-system", name: "collector"}},
		{in: AutopilotCollector, want: account{namespace: "gke-gmp-system", name: "collector"}},
		{in: "collector", wantErr: true},
		{in: ":collector", wantErr: true},
		{in: "gmp-system:", wantErr: true},
		{in: "a:b:c", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseAccount(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseAccount(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestSelectorLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		selector string
		want     string
		wantOK   bool
	}{
		{selector: DefaultSelector, want: "app: inference-gateway-ext-proc", wantOK: true},
		{selector: "app==gw,tier in (edge)", want: "app: gw, tier: edge", wantOK: true},
		{selector: "app!=gw", want: "app!=gw"},
		{selector: "app", want: "app"},
		{selector: "tier in (a,b)", want: "tier in (a,b)"},
	}
	for _, tc := range tests {
		t.Run(tc.selector, func(t *testing.T) {
			t.Parallel()
			sel, err := labels.Parse(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := selectorLabels(sel); ok != tc.wantOK {
				t.Errorf("selectorLabels ok = %v, want %v", ok, tc.wantOK)
			}
			if got := selectorYAML(sel); got != tc.want {
				t.Errorf("selectorYAML = %q, want %q", got, tc.want)
			}
		})
	}
}
