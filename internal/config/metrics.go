package config

// defaultModelNameLimit is the default cap on distinct model_name label
// values.
const defaultModelNameLimit = 100

// Metrics tunes the gateway's own Prometheus metrics.
type Metrics struct {
	// LegacyNames also exports the legacy inference_model_* families next
	// to inference_objective_*. nil means true. Read it with
	// [Metrics.Legacy].
	LegacyNames *bool `yaml:"legacyNames" json:"legacyNames"`
	// ModelNameLimit caps the distinct values of the model_name label;
	// further models are counted as "other". Default 100; must be >= 1.
	ModelNameLimit int `yaml:"modelNameLimit" json:"modelNameLimit"`
	// Auth protects /metrics, /debug/pprof/ and /dashboard on the metrics
	// listener.
	Auth MetricsAuth `yaml:"auth" json:"auth"`
}

// MetricsAuth configures bearer-token auth on the metrics listener.
type MetricsAuth struct {
	// Enabled turns auth on. nil means true. Read it with [MetricsAuth.On].
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// TokenFile is the path of a file holding the accepted bearer token(s).
	// Required while auth is enabled (standalone mode); Validate checks that
	// it is set, not that the file exists.
	TokenFile string `yaml:"tokenFile" json:"tokenFile"`
}

// Legacy returns LegacyNames, or its default (true) when unset.
func (m Metrics) Legacy() bool {
	return boolOr(m.LegacyNames, true)
}

// On returns Enabled, or its default (true) when unset.
func (a MetricsAuth) On() bool {
	return boolOr(a.Enabled, true)
}

// applyDefaults fills unset flags and the label limit.
func (m *Metrics) applyDefaults() {
	if m.LegacyNames == nil {
		m.LegacyNames = new(true)
	}
	if m.ModelNameLimit == 0 {
		m.ModelNameLimit = defaultModelNameLimit
	}
	if m.Auth.Enabled == nil {
		m.Auth.Enabled = new(true)
	}
}

// validate checks the label limit and that enabled auth has a token file.
func (m Metrics) validate() []error {
	var errs []error
	if m.ModelNameLimit < 1 {
		errs = append(errs, fieldErrorf("metrics.modelNameLimit", "must be >= 1, got %d", m.ModelNameLimit))
	}
	if m.Auth.On() && m.Auth.TokenFile == "" {
		errs = append(errs, fieldErrorf("metrics.auth.tokenFile", "is required when metrics.auth.enabled is true"))
	}
	return errs
}
