package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKubernetesModeParse(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(`
kubernetes:
  enabled: true
  pools: [vllm-llama3-8b-instruct]
  poolSelector: {matchLabels: {tier: gpu}}
  leaderElection: {leaseName: infergate-test, retryPeriod: 1s}
metrics:
  auth:
    mode: kubernetes
    kubernetes: {denyTTL: 10s}
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Kubernetes{
		Enabled:      true,
		Pools:        []string{"vllm-llama3-8b-instruct"},
		PoolSelector: &LabelSelector{MatchLabels: map[string]string{"tier": "gpu"}},
		LeaderElection: LeaderElection{
			Enabled:       new(true),
			LeaseName:     "infergate-test",
			LeaseDuration: Duration{15 * time.Second},
			RenewDeadline: Duration{10 * time.Second},
			RetryPeriod:   Duration{time.Second},
		},
	}
	if diff := cmp.Diff(want, c.Kubernetes); diff != "" {
		t.Errorf("kubernetes section (-want +got):\n%s", diff)
	}
	if c.Metrics.Auth.Mode != AuthKubernetes || c.Metrics.Auth.Kubernetes.DenyTTL.Duration != 10*time.Second ||
		c.Metrics.Auth.Kubernetes.AllowTTL.Duration != 5*time.Minute {
		t.Errorf("metrics.auth = %+v, want mode kubernetes, denyTTL 10s, allowTTL 5m", c.Metrics.Auth)
	}
}

func TestKubernetesModeValidate(t *testing.T) {
	t.Parallel()
	kube := func(mut func(c *Config)) *Config {
		c := Default()
		c.Kubernetes.Enabled = true
		c.Kubernetes.Pools = []string{"p"}
		c.Metrics.Auth.Mode = AuthKubernetes
		mut(c)
		c.ApplyDefaults()
		return c
	}
	tests := []struct {
		name string
		cfg  *Config
		want []string // error lines; none means valid
	}{
		{name: "pools by name", cfg: kube(func(*Config) {})},
		{name: "pools by selector", cfg: kube(func(c *Config) {
			c.Kubernetes.Pools = nil
			c.Kubernetes.PoolSelector = &LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		})},
		{name: "no pools named or selected", cfg: kube(func(c *Config) { c.Kubernetes.Pools = nil }),
			want: []string{"kubernetes.pools: name at least one InferencePool, or set kubernetes.poolSelector"}},
		{name: "empty selector", cfg: kube(func(c *Config) { c.Kubernetes.PoolSelector = &LabelSelector{} }),
			want: []string{"kubernetes.poolSelector.matchLabels: needs at least one label"}},
		{name: "duplicate pool", cfg: kube(func(c *Config) { c.Kubernetes.Pools = []string{"p", "p"} }),
			want: []string{`kubernetes.pools[1]: "p" is already kubernetes.pools[0]`}},
		{name: "file pools, models and objectives", cfg: kube(func(c *Config) {
			c.Pools = []Pool{{Name: "x", Endpoints: []Endpoint{{Address: "h:1"}}}}
			c.Models = []Model{{Name: "m"}}
			c.Objectives = []Objective{{Name: "o"}}
		}), want: []string{
			"pools: must be empty in Kubernetes mode: they come from InferencePool, InferenceModelRewrite and InferenceObjective objects",
			"models: must be empty in Kubernetes mode: they come from InferencePool, InferenceModelRewrite and InferenceObjective objects",
			"objectives: must be empty in Kubernetes mode: they come from InferencePool, InferenceModelRewrite and InferenceObjective objects",
		}},
		{name: "lease timings out of order", cfg: kube(func(c *Config) {
			c.Kubernetes.LeaderElection.RenewDeadline = Duration{20 * time.Second}
		}), want: []string{"kubernetes.leaderElection.renewDeadline: 20s must be less than leaseDuration (15s)"}},
		{name: "unknown auth mode", cfg: kube(func(c *Config) { c.Metrics.Auth.Mode = "oidc" }),
			want: []string{`metrics.auth.mode: "oidc" is not one of "static", "kubernetes"`}},
		{name: "static auth still needs a token file", cfg: kube(func(c *Config) { c.Metrics.Auth.Mode = AuthStatic }),
			want: []string{"metrics.auth.tokenFile: is required when metrics.auth.enabled is true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOverridesBeforeValidation(t *testing.T) {
	t.Parallel()
	doc := []byte("pools: [{name: p, endpoints: [{address: 'h:1'}]}]\n")
	if _, err := Parse(doc); err == nil || !strings.Contains(err.Error(), "metrics.auth.tokenFile") {
		t.Fatalf("without overrides: err = %v, want the missing token file", err)
	}
	off := false
	c, err := Parse(doc, func(c *Config) { c.Metrics.Auth.Enabled = &off })
	if err != nil {
		t.Fatalf("with auth turned off by an override: %v", err)
	}
	if c.Metrics.Auth.On() {
		t.Error("override lost")
	}
	// Overrides run before the second defaulting: a pool name added by a
	// flag gets the leader-election defaults like one from the file.
	c, err = Parse([]byte("metrics: {auth: {mode: kubernetes}}\n"), func(c *Config) {
		c.Kubernetes.Enabled = true
		c.Kubernetes.Pools = []string{"p"}
	})
	if err != nil {
		t.Fatalf("Kubernetes mode from an override: %v", err)
	}
	if !c.Kubernetes.LeaderElection.On() {
		t.Error("leader election not defaulted")
	}
}

func TestLoadOrKubernetesDefaults(t *testing.T) {
	t.Parallel()
	pools := func(c *Config) {
		c.Kubernetes.Enabled = true
		c.Kubernetes.Pools = []string{"vllm-llama3-8b-instruct"}
	}

	c, err := LoadOrKubernetesDefaults("", pools)
	if err != nil {
		t.Fatalf("no file, pools from flags: %v", err)
	}
	want := Default()
	want.Metrics.Auth.Mode = AuthKubernetes
	pools(want)
	want.ApplyDefaults()
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("no file (-want +got):\n%s", diff)
	}
	if !c.Kubernetes.Enabled || c.Metrics.Auth.Mode != AuthKubernetes || !c.Kubernetes.LeaderElection.On() {
		t.Errorf("no file: kubernetes %+v, metrics auth mode %q; want Kubernetes mode, TokenReview auth, leader election on",
			c.Kubernetes, c.Metrics.Auth.Mode)
	}

	if _, err := LoadOrKubernetesDefaults(""); err == nil {
		t.Error("no file and no pools: want a validation error, got none")
	}

	c, err = LoadOrKubernetesDefaults("testdata/example.yaml")
	if err != nil {
		t.Fatalf("example file: %v", err)
	}
	if c.Kubernetes.Enabled || c.Metrics.Auth.Mode == AuthKubernetes || len(c.Pools) == 0 {
		t.Errorf("a file must be loaded as it is: kubernetes %v, metrics auth mode %q, %d pools",
			c.Kubernetes.Enabled, c.Metrics.Auth.Mode, len(c.Pools))
	}
}
