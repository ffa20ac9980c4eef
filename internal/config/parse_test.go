package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// minimalYAML is the smallest valid configuration: one pool with one
// endpoint, and the token file that enabled metrics auth requires.
const minimalYAML = `
pools:
  - name: p
    endpoints:
      - address: 10.0.0.1:8000
metrics:
  auth:
    tokenFile: /run/token
`

// withPool returns a defaulted config with pool p and the given metrics
// token file, as minimalYAML-style documents parse to.
func withPool(p Pool, tokenFile string) *Config {
	c := Default()
	c.Pools = []Pool{p}
	c.Metrics.Auth.TokenFile = tokenFile
	return c
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want func() *Config
	}{
		{
			name: "minimal gets every default",
			yaml: minimalYAML,
			want: func() *Config {
				return withPool(Pool{Name: "p", Endpoints: []Endpoint{
					{Name: "10.0.0.1:8000", Address: "10.0.0.1:8000", Engine: EngineVLLM},
				}}, "/run/token")
			},
		},
		{
			name: "explicit header, auth off, zero weights and retries kept",
			yaml: `
apiVersion: infergate.dev/v1alpha1
kind: GatewayConfig
listen: 127.0.0.1:0
metricsListen: 127.0.0.1:0
pools:
  - name: a
    endpoints:
      - {name: s, address: "[::1]:30000", engine: sglang}
      - {address: "model-server.ns.svc.cluster.local:8000", engine: trtllm}
  - name: b
    endpoints: []
objectives:
  - {name: low, priority: -5}
models:
  - name: m
    objective: low
    targets: [{model: base}, {model: adapter}]
  - {name: n, pool: b}
scheduler:
  weights: {queue: 0, kvCache: 0, prefix: 1.5, lora: 0, inFlight: 0}
upstream:
  maxRetries: 0
  forwardAuthorization: false
metrics:
  legacyNames: false
  auth: {enabled: false}
`,
			want: func() *Config {
				c := Default()
				c.Listen, c.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
				c.Pools = []Pool{
					{Name: "a", Endpoints: []Endpoint{
						{Name: "s", Address: "[::1]:30000", Engine: EngineSGLang},
						{Name: "model-server.ns.svc.cluster.local:8000", Address: "model-server.ns.svc.cluster.local:8000", Engine: EngineTRTLLM},
					}},
					{Name: "b", Endpoints: []Endpoint{}},
				}
				c.Objectives = []Objective{{Name: "low", Priority: -5}}
				c.Models = []Model{
					{Name: "m", Pool: "a", Objective: "low", Targets: []Target{{Model: "base", Weight: 1}, {Model: "adapter", Weight: 1}}},
					{Name: "n", Pool: "b"},
				}
				c.Scheduler.Weights = ScorerWeights{Queue: new(0.0), KVCache: new(0.0), Prefix: new(1.5), LoRA: new(0.0), InFlight: new(0.0)}
				c.Upstream.MaxRetries = new(0)
				c.Upstream.ForwardAuthorization = new(false)
				c.Metrics.LegacyNames = new(false)
				c.Metrics.NameSets = []string{NameSetLLMD, NameSetGIE}
				c.Metrics.ModelPairLimit = 1000 // the budget of 2000 over two sets
				c.Metrics.Auth.Enabled = new(false)
				return c
			},
		},
		{
			name: "example file",
			yaml: string(Example),
			want: func() *Config {
				// The example claims to show defaults everywhere except
				// pools, objectives, models and the token file.
				c := withPool(Pool{Name: "llama", Endpoints: []Endpoint{
					{Name: "vllm-0", Address: "127.0.0.1:8001", Engine: EngineVLLM},
					{Name: "vllm-1", Address: "127.0.0.1:8002", Engine: EngineVLLM},
					{Name: "vllm-2", Address: "127.0.0.1:8003", Engine: EngineVLLM},
					{Name: "vllm-3", Address: "127.0.0.1:8004", Engine: EngineVLLM},
				}}, "/etc/infergate/metrics-token")
				c.Objectives = []Objective{{Name: "critical", Priority: 10}, {Name: "batch", Priority: -1}}
				c.Models = []Model{
					{Name: "meta-llama/Llama-3.1-8B-Instruct", Pool: "llama", Objective: "critical"},
					{Name: "sql-lora", Pool: "llama", Objective: "batch", Targets: []Target{{Model: "sql-lora", Weight: 1}}},
					{Name: "food-review", Pool: "llama", Targets: []Target{
						{Model: "food-review-v1", Weight: 90},
						{Model: "food-review-v2", Weight: 10},
					}},
				}
				return c
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want(), got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseValidationErrors(t *testing.T) {
	t.Parallel()
	const auth = "metrics: {auth: {tokenFile: /t}}\n"
	const pools = "pools: [{name: p, endpoints: [{address: '10.0.0.1:80'}]}]\n"
	tests := []struct {
		name string
		yaml string
		want []string // the error's lines, exactly
	}{
		{
			name: "no pools",
			yaml: auth,
			want: []string{`pools: at least one pool is required`},
		},
		{
			name: "pool names",
			yaml: auth + "pools: [{name: ''}, {name: a}, {name: a}]\n",
			want: []string{
				`pools[0].name: is required`,
				`pools[2].name: "a" is already the name of pools[1]`,
			},
		},
		{
			name: "endpoint names and addresses",
			yaml: auth + `
pools:
  - name: p
    endpoints:
      - {address: "10.0.0.1:80"}
      - {address: "10.0.0.1:80"}
      - {name: x, address: "10.0.0.2:80"}
      - {name: x, address: "10.0.0.3:80"}
      - {name: y, address: "10.0.0.2:80"}
      - {name: z, address: x}
      - {name: w, address: ":80"}
      - {name: v, address: "h:0"}
      - {name: u, address: "h:65536"}
      - {name: t, address: "h:http"}
      - {name: s, address: "bad host:80"}
      - {name: r, address: "http://h:80"}
`,
			want: []string{
				`pools[0].endpoints[1].name: "10.0.0.1:80" is already the name of pools[0].endpoints[0]`,
				`pools[0].endpoints[3].name: "x" is already the name of pools[0].endpoints[2]`,
				`pools[0].endpoints[4].address: "10.0.0.2:80" is already the address of pools[0].endpoints[2]`,
				`pools[0].endpoints[5].address: "x" is not host:port`,
				`pools[0].endpoints[6].address: ":80" has no host`,
				`pools[0].endpoints[7].address: "h:0" has port "0", want 1..65535`,
				`pools[0].endpoints[8].address: "h:65536" has port "65536", want 1..65535`,
				`pools[0].endpoints[9].address: "h:http" has port "http", want 1..65535`,
				`pools[0].endpoints[10].address: "bad host:80" has an invalid host "bad host"`,
				`pools[0].endpoints[11].address: "http://h:80" is not host:port`,
			},
		},
		{
			name: "names with unusable characters",
			yaml: auth + `
pools:
  - name: " p"
    endpoints: [{name: "a\nb", address: "h:1"}]
objectives: [{name: "\x01"}]
models:
  - name: "m\xff"
    targets: [{model: "t "}]
`,
			want: []string{
				`pools[0].name: " p" has leading or trailing white space`,
				`pools[0].endpoints[0].name: "a\nb" contains control characters`,
				`objectives[0].name: "\x01" contains control characters`,
				`models[0].targets[0].model: "t " has leading or trailing white space`,
			},
		},
		{
			name: "unknown engine",
			yaml: auth + "pools: [{name: p, endpoints: [{address: 'h:1', engine: VLLM}]}]\n",
			want: []string{`pools[0].endpoints[0].engine: "VLLM" is not one of vllm, sglang, trtllm`},
		},
		{
			name: "listeners",
			yaml: auth + pools + "listen: '8080'\nmetricsListen: ':99999'\n",
			want: []string{
				`listen: "8080" is not host:port`,
				`metricsListen: ":99999" has port "99999", want 0..65535`,
			},
		},
		{
			name: "same listener twice",
			yaml: auth + pools + "listen: ':9090'\n",
			want: []string{`metricsListen: ":9090" is also the listen address`},
		},
		{
			name: "models",
			yaml: auth + pools + `
objectives: [{name: o}]
models:
  - {name: ""}
  - {name: m, pool: nope, objective: missing}
  - {name: m, objective: o}
`,
			want: []string{
				`models[0].name: is required`,
				`models[1].pool: "nope" is not the name of any pool`,
				`models[1].objective: "missing" is not the name of any objective`,
				`models[2].name: "m" is already the name of models[1]`,
			},
		},
		{
			name: "targets",
			yaml: auth + pools + `
models:
  - name: partial
    targets: [{model: a, weight: 5}, {model: b}]
  - name: range
    targets: [{model: a, weight: -1}, {model: b, weight: 1000001}, {model: c, weight: 1000000}]
  - name: names
    targets: [{model: ""}, {model: a}, {model: a}]
`,
			want: []string{
				`models[0].targets[1].weight: is required because other targets set a weight (set all weights or none)`,
				`models[1].targets[0].weight: must be in 1..1000000, got -1`,
				`models[1].targets[1].weight: must be in 1..1000000, got 1000001`,
				`models[2].targets[0].model: is required`,
				`models[2].targets[2].model: "a" is already the model of models[2].targets[1]`,
			},
		},
		{
			name: "objectives",
			yaml: auth + pools + "objectives: [{priority: 1}, {name: a}, {name: a, priority: 2}]\n",
			want: []string{
				`objectives[0].name: is required`,
				`objectives[2].name: "a" is already the name of objectives[1]`,
			},
		},
		{
			name: "scheduler thresholds",
			yaml: auth + pools + `
scheduler:
  queueDepthThreshold: -1
  kvCacheThreshold: 1.5
  prefixBlockTokens: -2
  prefixMaxBlocks: -3
  prefixLRUCapacity: -4
`,
			want: []string{
				`scheduler.queueDepthThreshold: must be > 0, got -1`,
				`scheduler.prefixBlockTokens: must be > 0, got -2`,
				`scheduler.prefixMaxBlocks: must be > 0, got -3`,
				`scheduler.prefixLRUCapacity: must be > 0, got -4`,
				`scheduler.kvCacheThreshold: must be in (0, 1], got 1.5`,
			},
		},
		{
			name: "unknown strategy",
			yaml: auth + pools + "scheduler: {strategy: fastest}\n",
			want: []string{`scheduler.strategy: "fastest" is not one of "default", "round-robin", "random", "least-request"`},
		},
		{
			name: "kv cache threshold not a number",
			yaml: auth + pools + "scheduler: {kvCacheThreshold: .nan}\n",
			want: []string{`scheduler.kvCacheThreshold: must be in (0, 1], got NaN`},
		},
		{
			name: "bad weights",
			yaml: auth + pools + "scheduler: {weights: {queue: -1, kvCache: .nan, prefix: .inf, lora: 0, inFlight: 0}}\n",
			want: []string{
				`scheduler.weights.queue: must be a finite number >= 0, got -1`,
				`scheduler.weights.kvCache: must be a finite number >= 0, got NaN`,
				`scheduler.weights.prefix: must be a finite number >= 0, got +Inf`,
				`scheduler.weights: at least one weight must be > 0`,
			},
		},
		{
			name: "all weights zero",
			yaml: auth + pools + "scheduler: {weights: {queue: 0, kvCache: 0, prefix: 0, lora: 0, inFlight: 0}}\n",
			want: []string{`scheduler.weights: at least one weight must be > 0`},
		},
		{
			name: "scrape timing",
			yaml: auth + pools + "scrape: {interval: 100ms, timeout: 100ms, staleness: 99ms}\n",
			want: []string{
				`scrape.timeout: 100ms must be less than scrape.interval (100ms)`,
				`scrape.staleness: 99ms must be at least scrape.interval (100ms)`,
			},
		},
		{
			name: "scrape timeout above the default interval",
			yaml: auth + pools + "scrape: {timeout: 1s}\n",
			want: []string{`scrape.timeout: 1s must be less than scrape.interval (50ms)`},
		},
		{
			name: "negative counts",
			yaml: pools + `
upstream: {maxRetries: -1}
limits: {maxBodyBytes: -1}
metrics: {modelNameLimit: -1, auth: {tokenFile: /t}}
`,
			want: []string{
				`upstream.maxRetries: must be >= 0, got -1`,
				`limits.maxBodyBytes: must be > 0, got -1`,
				`metrics.modelNameLimit: must be >= 1, got -1`,
			},
		},
		{
			name: "failure limit out of range",
			yaml: pools + "metrics: {auth: {tokenFile: /t, failureLimit: {burst: -1, perSecond: -0.5}}}\n",
			want: []string{
				`metrics.auth.failureLimit.burst: must be >= 1, got -1`,
				`metrics.auth.failureLimit.perSecond: must be > 0 and at most 1000000, got -0.5`,
			},
		},
		{
			name: "auth without token file",
			yaml: pools,
			want: []string{`metrics.auth.tokenFile: is required when metrics.auth.enabled is true`},
		},
		{
			name: "auth explicitly on without token file",
			yaml: pools + "metrics: {auth: {enabled: true}}\n",
			want: []string{`metrics.auth.tokenFile: is required when metrics.auth.enabled is true`},
		},
		{
			name: "several sections at once",
			yaml: `
pools: [{name: p, endpoints: [{address: nope}]}]
models: [{name: m, pool: q}]
scheduler: {queueDepthThreshold: -1}
scrape: {staleness: 1ms}
`,
			want: []string{
				`pools[0].endpoints[0].address: "nope" is not host:port`,
				`models[0].pool: "q" is not the name of any pool`,
				`scheduler.queueDepthThreshold: must be > 0, got -1`,
				`scrape.staleness: 1ms must be at least scrape.interval (50ms)`,
				`metrics.auth.tokenFile: is required when metrics.auth.enabled is true`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want errors %q; got config %+v", tc.want, c)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines mismatch (-want +got):\n%s", diff)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("errors.As(%v, *FieldError) = false, want true", err)
			}
		})
	}
}

func TestParseDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error message
	}{
		{
			name: "unknown top-level field with suggestion",
			yaml: "Listen: ':1'\n" + minimalYAML,
			want: []string{`Listen: unknown field on line 1 (did you mean "listen"?)`},
		},
		{
			name: "unknown nested fields all reported",
			yaml: `
pools:
  - name: p
    endpoints:
      - adress: 10.0.0.1:8000
scheduler:
  weights: {qeue: 1}
  bogusSetting: 1
`,
			want: []string{
				`pools[0].endpoints[0].adress: unknown field on line 5 (did you mean "address"?)`,
				`scheduler.weights.qeue: unknown field on line 7 (did you mean "queue"?)`,
				`scheduler.bogusSetting: unknown field on line 8`,
			},
		},
		{
			// The walk does not follow aliases; the strict decoder does.
			name: "unknown field behind an alias still rejected",
			yaml: minimalYAML + `
models: [{name: m, targets: [&t {model: x}]}]
objectives: [*t]
`,
			want: []string{"decode config:", "field model not found in type config.Objective"},
		},
		{
			name: "unknown field in a merged mapping still rejected",
			yaml: minimalYAML + `
models: [{name: m, targets: [&t {model: x}]}]
objectives: [{<<: *t, name: o}]
`,
			want: []string{"decode config:", "field model not found in type config.Objective"},
		},
		{
			name: "wrong apiVersion",
			yaml: "apiVersion: infergate.dev/v2\n" + minimalYAML,
			want: []string{`apiVersion: "infergate.dev/v2" is not supported; want "infergate.dev/v1alpha1"`},
		},
		{
			name: "wrong kind",
			yaml: "kind: InferencePool\n" + minimalYAML,
			want: []string{`kind: "InferencePool" is not supported; want "GatewayConfig"`},
		},
		{
			name: "wrong type",
			yaml: "listen: [1]\n" + minimalYAML,
			want: []string{"decode config:", "line 1: cannot unmarshal !!seq into string"},
		},
		{
			name: "duration without unit",
			yaml: "scrape: {interval: 50}\n" + minimalYAML,
			want: []string{`line 1: invalid duration "50": want a Go duration such as "50ms" or "2s"`},
		},
		{
			name: "negative duration",
			yaml: "shutdown: {gracePeriod: -1s}\n" + minimalYAML,
			want: []string{`line 1: invalid duration "-1s": must not be negative`},
		},
		{
			name: "duration not a scalar",
			yaml: "shutdown: {gracePeriod: [1s]}\n" + minimalYAML,
			want: []string{`line 1: want a duration string such as "50ms"`},
		},
		{
			name: "several decode errors together",
			yaml: "scrape: {interval: 5, timeout: x}\n" + minimalYAML,
			want: []string{`invalid duration "5"`, `invalid duration "x"`},
		},
		{
			name: "duplicate key",
			yaml: "listen: ':1'\nlisten: ':2'\n" + minimalYAML,
			want: []string{`mapping key "listen" already defined`},
		},
		{name: "empty", yaml: "", want: []string{"config is empty"}},
		{name: "only a comment", yaml: "# nothing\n", want: []string{"config is empty"}},
		{name: "null", yaml: "~\n", want: []string{"config is empty"}},
		{name: "sequence", yaml: "- a\n", want: []string{"config must be a YAML mapping of fields, found a sequence on line 1"}},
		{name: "scalar", yaml: "hello\n", want: []string{"config must be a YAML mapping of fields, found a scalar on line 1"}},
		{name: "syntax error", yaml: "pools: [\n", want: []string{"parse config: yaml: line"}},
		{
			name: "two documents",
			yaml: minimalYAML + "---\nlisten: ':1'\n",
			want: []string{"config has more than one YAML document (the second starts on line"},
		},
		{
			name: "too large",
			yaml: minimalYAML + "#" + strings.Repeat("x", maxConfigBytes),
			want: []string{"config is larger than 4194304 bytes"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q; got %+v", tc.want, c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseTrailingEmptyDocument(t *testing.T) {
	t.Parallel()
	// A trailing document separator with nothing after it is common in
	// generated files and is not a second document.
	if _, err := Parse([]byte(minimalYAML + "---\n")); err != nil {
		t.Errorf("Parse with a trailing '---' = %v, want nil", err)
	}
}

func TestValidateZeroConfig(t *testing.T) {
	t.Parallel()
	// Validate without ApplyDefaults: every zero setting is reported.
	err := (&Config{}).Validate()
	want := []string{
		`apiVersion: "" is not supported; want "infergate.dev/v1alpha1"`,
		`kind: "" is not supported; want "GatewayConfig"`,
		`listen: "" is not host:port`,
		`metricsListen: "" is not host:port`,
		`pools: at least one pool is required`,
		`scheduler.strategy: "" is not one of "default", "round-robin", "random", "least-request"`,
		`scheduler.queueDepthThreshold: must be > 0, got 0`,
		`scheduler.prefixBlockTokens: must be > 0, got 0`,
		`scheduler.prefixMaxBlocks: must be > 0, got 0`,
		`scheduler.prefixLRUCapacity: must be > 0, got 0`,
		`scheduler.kvCacheThreshold: must be in (0, 1], got 0`,
		`scrape.interval: must be > 0, got 0s`,
		`scrape.timeout: must be > 0, got 0s`,
		`scrape.staleness: must be > 0, got 0s`,
		`scrape.modelsInterval: must be > 0, got 0s`,
		`upstream.connectTimeout: must be > 0, got 0s`,
		`upstream.firstByteTimeout: must be > 0, got 0s`,
		`upstream.idleTimeout: must be > 0, got 0s`,
		`upstream.outlierDetection.baseEjectionTime: must be > 0, got 0s`,
		`upstream.outlierDetection.maxEjectionTime: must be > 0, got 0s`,
		`limits.maxBodyBytes: must be > 0, got 0`,
		`limits.bodyReadTimeout: must be > 0, got 0s`,
		`limits.clientStallTimeout: must be > 0, got 0s`,
		`limits.maxInFlight: must be > 0, got 0`,
		`limits.maxConnsPerAddress: must be > 0, got 0`,
		`limits.maxHeaderBytes: must be >= 4096, got 0`,
		`flowControl.ttl: must be > 0, got 0s`,
		`flowControl.maxRequestsPerBand: must be > 0, got 0`,
		`flowControl.ordering: "" is not one of fcfs, edf`,
		`flowControl.fairness: "" is not one of round-robin, global-strict, fair-share, reserved-share`,
		`metrics.nameSets: must list at least one of "llm-d", "gie", "legacy"`,
		`metrics.modelNameLimit: must be >= 1, got 0`,
		`metrics.modelPairLimit: must be >= 1, got 0`,
		`metrics.auth.failureLimit.burst: must be >= 1, got 0`,
		`metrics.auth.failureLimit.perSecond: must be > 0 and at most 1000000, got 0`,
		`metrics.auth.tokenFile: is required when metrics.auth.enabled is true`,
		`shutdown.gracePeriod: must be > 0, got 0s`,
	}
	if err == nil {
		t.Fatal("Validate of a zero Config = nil, want errors")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("error lines mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateNegativeDuration(t *testing.T) {
	t.Parallel()
	c := withPool(Pool{Name: "p", Endpoints: []Endpoint{{Name: "e", Address: "h:1", Engine: EngineVLLM}}}, "/t")
	c.Upstream.IdleTimeout.Duration = -time.Second
	err := c.Validate()
	want := "upstream.idleTimeout: must be > 0, got -1s"
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.yaml")
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(valid, []byte(minimalYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(invalid, []byte("pools: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		c, err := Load(valid)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got, want := c.Pools[0].Endpoints[0].Address, "10.0.0.1:8000"; got != want {
			t.Errorf("endpoint address = %q, want %q", got, want)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		missing := filepath.Join(dir, "missing.yaml")
		_, err := Load(missing)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load = %v, want fs.ErrNotExist", err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "load config "+missing+": ") {
			t.Errorf("Load error = %q, want it prefixed with the path", err)
		}
	})
	t.Run("invalid content names the path and the field", func(t *testing.T) {
		t.Parallel()
		_, err := Load(invalid)
		if err == nil {
			t.Fatal("Load = nil, want an error")
		}
		want := "load config " + invalid + ": pools: at least one pool is required"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Load error = %q, want prefix %q", err, want)
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "pools" {
			t.Errorf("errors.As FieldError = %+v, want Field %q", fe, "pools")
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("Load(dir) = %v, want an error naming %s", err, dir)
		}
	})
}
