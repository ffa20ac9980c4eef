package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	want := &Config{
		APIVersion:    "infergate.dev/v1alpha1",
		Kind:          "GatewayConfig",
		Listen:        ":8080",
		MetricsListen: ":9090",
		Scheduler: Scheduler{
			Strategy: "default",
			Weights: ScorerWeights{
				Queue: new(3.0), KVCache: new(2.0), Prefix: new(3.0), LoRA: new(6.0), InFlight: new(1.0),
			},
			QueueDepthThreshold: 5,
			KVCacheThreshold:    0.8,
			PrefixBlockTokens:   16,
			PrefixMaxBlocks:     256,
			PrefixLRUCapacity:   31250,
		},
		Scrape: Scrape{
			Interval:       Duration{50 * time.Millisecond},
			Timeout:        Duration{40 * time.Millisecond},
			Staleness:      Duration{2 * time.Second},
			ModelsInterval: Duration{5 * time.Second},
		},
		Upstream: Upstream{
			ConnectTimeout:       Duration{5 * time.Second},
			FirstByteTimeout:     Duration{5 * time.Minute},
			IdleTimeout:          Duration{2 * time.Minute},
			MaxRetries:           new(2),
			ForwardAuthorization: new(true),
			OutlierDetection: OutlierDetection{
				Enabled:                      new(true),
				Consecutive5xx:               new(5),
				ConsecutiveConnectFailures:   new(3),
				ConsecutiveFirstByteTimeouts: new(2),
				BaseEjectionTime:             Duration{30 * time.Second},
				MaxEjectionTime:              Duration{5 * time.Minute},
				MaxEjectionPercent:           new(50),
			},
		},
		Limits: Limits{
			MaxBodyBytes:         16 << 20,
			MaxBufferedBodyBytes: 1 << 30,
			BodyReadTimeout:      Duration{30 * time.Second},
			ClientStallTimeout:   Duration{30 * time.Second},
			MaxInFlight:          10000,
			MaxConnsPerAddress:   256,
			MaxConns:             20000,
			MaxHeaderBytes:       64 << 10,
		},
		TrustControlHeaders: new(true),
		Metrics: Metrics{
			NameSets:       []string{NameSetLLMD, NameSetGIE, NameSetLegacy},
			ModelNameLimit: 1000,
			ModelPairLimit: 666,
			Auth: MetricsAuth{Enabled: new(true), Mode: AuthStatic, Kubernetes: KubernetesAuth{
				TokenReviewTTL: Duration{time.Minute},
				AllowTTL:       Duration{5 * time.Minute},
				DenyTTL:        Duration{30 * time.Second},
				Timeout:        Duration{2 * time.Second},
			}, FailureLimit: FailureLimit{Burst: 10, PerSecond: 1}},
		},
		Kubernetes: Kubernetes{LeaderElection: LeaderElection{
			Enabled:       new(true),
			LeaseDuration: Duration{15 * time.Second},
			RenewDeadline: Duration{10 * time.Second},
			RetryPeriod:   Duration{2 * time.Second},
		}},
		FlowControl: FlowControl{
			TTL:                Duration{60 * time.Second},
			MaxRequestsPerBand: 5000,
			Ordering:           "fcfs",
			Fairness:           "fair-share",
			ReservationLinger:  Duration{Duration: time.Second},
		},
		Shutdown: Shutdown{GracePeriod: Duration{30 * time.Second}},
	}
	if diff := cmp.Diff(want, Default()); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}
	a, b := Default(), Default()
	*a.Scheduler.Weights.Queue = 7
	*a.Upstream.MaxRetries = 7
	*a.Metrics.Auth.Enabled = false
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("changing one Default() changed another (-want +got):\n%s", diff)
	}
}

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   func() *Config
		want func() *Config
	}{
		{
			name: "pools and models added after Default",
			in: func() *Config {
				c := Default()
				c.Pools = []Pool{
					{Name: "first", Endpoints: []Endpoint{{Address: "h:1"}, {Name: "n", Address: "h:2", Engine: EngineSGLang}}},
					{Name: "second"},
				}
				c.Models = []Model{
					{Name: "a", Targets: []Target{{Model: "x"}, {Model: "y"}}},
					{Name: "b", Pool: "second", Targets: []Target{{Model: "x", Weight: 3}, {Model: "y"}}},
				}
				return c
			},
			want: func() *Config {
				c := Default()
				c.Pools = []Pool{
					{Name: "first", Endpoints: []Endpoint{{Name: "h:1", Address: "h:1", Engine: EngineVLLM}, {Name: "n", Address: "h:2", Engine: EngineSGLang}}},
					{Name: "second"},
				}
				c.Models = []Model{
					{Name: "a", Pool: "first", Targets: []Target{{Model: "x", Weight: 1}, {Model: "y", Weight: 1}}},
					// Partially set weights are left for Validate to report.
					{Name: "b", Pool: "second", Targets: []Target{{Model: "x", Weight: 3}, {Model: "y"}}},
				}
				return c
			},
		},
		{
			name: "set values are kept",
			in: func() *Config {
				return &Config{
					Listen:    "127.0.0.1:1",
					Scheduler: Scheduler{KVCacheThreshold: 0.5, Weights: ScorerWeights{Prefix: new(0.0)}},
					Scrape:    Scrape{Interval: Duration{time.Second}},
					Upstream:  Upstream{MaxRetries: new(0), ForwardAuthorization: new(false)},
					Metrics:   Metrics{LegacyNames: new(false), Auth: MetricsAuth{Enabled: new(false)}},
				}
			},
			want: func() *Config {
				c := Default()
				c.Listen = "127.0.0.1:1"
				c.Scheduler.KVCacheThreshold = 0.5
				c.Scheduler.Weights.Prefix = new(0.0)
				c.Scrape.Interval = Duration{time.Second}
				c.Upstream.MaxRetries = new(0)
				c.Upstream.ForwardAuthorization = new(false)
				c.Metrics.LegacyNames = new(false)
				c.Metrics.NameSets = []string{NameSetLLMD, NameSetGIE}
				c.Metrics.ModelPairLimit = 1000 // the budget of 2000 over two sets
				c.Metrics.Auth.Enabled = new(false)
				return c
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.in()
			got.ApplyDefaults()
			if diff := cmp.Diff(tc.want(), got); diff != "" {
				t.Errorf("ApplyDefaults mismatch (-want +got):\n%s", diff)
			}
			got.ApplyDefaults()
			if diff := cmp.Diff(tc.want(), got); diff != "" {
				t.Errorf("second ApplyDefaults changed the config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	type values struct {
		Queue, KVCache, Prefix, LoRA, InFlight float64
		Retries                                int
		ForwardAuth, Legacy, AuthOn            bool
	}
	read := func(c *Config) values {
		w := c.Scheduler.Weights
		return values{
			Queue: w.QueueWeight(), KVCache: w.KVCacheWeight(), Prefix: w.PrefixWeight(),
			LoRA: w.LoRAWeight(), InFlight: w.InFlightWeight(),
			Retries:     c.Upstream.Retries(),
			ForwardAuth: c.Upstream.ForwardAuth(),
			Legacy:      c.Metrics.Legacy(),
			AuthOn:      c.Metrics.Auth.On(),
		}
	}
	defaults := values{Queue: 3, KVCache: 2, Prefix: 3, LoRA: 6, InFlight: 1, Retries: 2, ForwardAuth: true, Legacy: true, AuthOn: true}
	tests := []struct {
		name string
		cfg  *Config
		want values
	}{
		{name: "nil fields read as defaults", cfg: &Config{}, want: defaults},
		{name: "defaulted fields read as defaults", cfg: Default(), want: defaults},
		{
			name: "set fields, including zero and false",
			cfg: &Config{
				Scheduler: Scheduler{Weights: ScorerWeights{
					Queue: new(0.0), KVCache: new(0.5), Prefix: new(7.0), LoRA: new(0.0), InFlight: new(4.0),
				}},
				Upstream: Upstream{MaxRetries: new(0), ForwardAuthorization: new(false)},
				Metrics:  Metrics{LegacyNames: new(false), Auth: MetricsAuth{Enabled: new(false)}},
			},
			want: values{Queue: 0, KVCache: 0.5, Prefix: 7, LoRA: 0, InFlight: 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, read(tc.cfg)); diff != "" {
				t.Errorf("accessors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObjectivePriority(t *testing.T) {
	t.Parallel()
	c := &Config{Objectives: []Objective{{Name: "critical", Priority: 10}, {Name: "batch", Priority: -1}, {Name: "zero"}}}
	tests := []struct {
		name    string
		want    int
		wantOK  bool
		lookFor string
	}{
		{name: "positive", lookFor: "critical", want: 10, wantOK: true},
		{name: "negative", lookFor: "batch", want: -1, wantOK: true},
		{name: "zero", lookFor: "zero", want: 0, wantOK: true},
		{name: "unknown", lookFor: "nope", want: 0, wantOK: false},
		{name: "empty name", lookFor: "", want: 0, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := c.ObjectivePriority(tc.lookFor)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ObjectivePriority(%q) = %d, %t; want %d, %t", tc.lookFor, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestFlowControlModeFor(t *testing.T) {
	t.Parallel()
	var f FlowControl
	if got := f.ModeFor(FrontEndProxy); got != FlowModeQueue {
		t.Errorf("unset mode, proxy: %q, want queue", got)
	}
	if got := f.ModeFor(FrontEndExtProc); got != FlowModeShed {
		t.Errorf("unset mode, ext_proc: %q, want shed", got)
	}
	f.Mode = FlowModeOff
	if f.ModeFor(FrontEndProxy) != FlowModeOff || f.ModeFor(FrontEndExtProc) != FlowModeOff {
		t.Error("a set mode is not used by every front end")
	}
}

func TestFlowControlValidate(t *testing.T) {
	t.Parallel()
	f := FlowControl{Mode: "drop", NoEndpointHold: Duration{2 * time.Minute}, MaxRequestsPerEndpoint: -1, MaxTokensPerEndpoint: -1}
	f.applyDefaults()
	f.Ordering, f.Fairness = "lifo", "random"
	var got []string
	for _, e := range f.validate() {
		got = append(got, e.Error())
	}
	want := []string{
		`flowControl.mode: "drop" is not one of off, shed, queue`,
		`flowControl.ordering: "lifo" is not one of fcfs, edf`,
		`flowControl.fairness: "random" is not one of round-robin, global-strict, fair-share, reserved-share`,
		`flowControl.noEndpointHold: 2m0s must be at most flowControl.ttl (1m0s)`,
		`flowControl.maxRequestsPerEndpoint: must be >= 0, got -1`,
		`flowControl.maxTokensPerEndpoint: must be >= 0, got -1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFlowControlReservedShareNeedsCapacity(t *testing.T) {
	t.Parallel()
	f := FlowControl{Fairness: FlowFairReservedShare}
	f.applyDefaults()
	errs := f.validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "reserved-share needs flowControl.maxRequestsPerEndpoint") {
		t.Fatalf("errors %v", errs)
	}
	f.MaxRequestsPerEndpoint = 8
	if errs := f.validate(); len(errs) != 0 {
		t.Fatalf("errors %v with maxRequestsPerEndpoint set", errs)
	}
}
