package config

import (
	"fmt"
	"slices"
	"time"
)

// Defaults of the label caps: upstream's cap on model names (llm-d router
// v0.10), and a cap on (model, target model) pairs.
const (
	defaultModelNameLimit = 1000
	// modelComboBudget is shared by the enabled name sets: the default
	// modelPairLimit is modelComboBudget / len(nameSets).
	modelComboBudget = 2000
)

// Metric name sets; see [Metrics.NameSets].
const (
	// NameSetLLMD is llm-d router v0.10's llm_d_epp_* names.
	NameSetLLMD = "llm-d"
	// NameSetGIE is Gateway API Inference Extension v1.5's
	// inference_objective_*, inference_pool_* and inference_extension_*.
	NameSetGIE = "gie"
	// NameSetLegacy is the inference_model_* names Google's guide queries.
	NameSetLegacy = "legacy"
)

// Metrics tunes the gateway's own Prometheus metrics.
type Metrics struct {
	// NameSets lists the names the gateway's families are emitted under:
	// [NameSetLLMD], [NameSetGIE], [NameSetLegacy]. Default all three, as
	// upstream emits its new and deprecated names side by side; each set
	// is a full copy, so each one multiplies the samples a scrape carries.
	NameSets []string `yaml:"nameSets" json:"nameSets"`
	// LegacyNames is the older switch for the legacy set, kept as an
	// alias: when NameSets is unset, false leaves [NameSetLegacy] out of
	// the default. Setting both is an error unless they agree. nil means
	// unset.
	LegacyNames *bool `yaml:"legacyNames" json:"legacyNames"`
	// ModelNameLimit caps the distinct client-derived values of the
	// model_name and target_model_name labels; further names are counted
	// as "other". Configured models, rewrite targets and the models the
	// replicas list are pinned outside the cap. Default 1000 (as upstream);
	// must be >= 1.
	ModelNameLimit int `yaml:"modelNameLimit" json:"modelNameLimit"`
	// ModelPairLimit caps the distinct (model_name, target_model_name,
	// fairness_id, priority) combinations, one budget for every name set;
	// past it the fairness ID is counted as "other" for a pinned model's
	// natural pair (the model with itself or a configured target), the
	// target too for other pairs of a pinned model, and all three
	// otherwise. Default 2000 divided by the number of name sets (666 with
	// all three, 1000 with two as before), which keeps the worst-case size
	// of /metrics the same whichever sets are on; must be >= 1.
	ModelPairLimit int `yaml:"modelPairLimit" json:"modelPairLimit"`
	// Auth protects /metrics, /debug/pprof/ and /dashboard on the metrics
	// listener.
	Auth MetricsAuth `yaml:"auth" json:"auth"`
}

// Metrics auth modes; see [MetricsAuth.Mode].
const (
	// AuthStatic accepts the bearer tokens listed in a file.
	AuthStatic = "static"
	// AuthKubernetes checks bearer tokens with a TokenReview and the request
	// with a SubjectAccessReview (nonResourceURL = path, verb get).
	AuthKubernetes = "kubernetes"
)

// Kubernetes auth defaults: those of Kubernetes' delegating authorizer, and
// a review timeout well under a 5 s scrape.
const (
	defaultTokenReviewTTL = time.Minute
	defaultAllowTTL       = 5 * time.Minute
	defaultDenyTTL        = 30 * time.Second
	defaultReviewTimeout  = 2 * time.Second
)

// MetricsAuth configures bearer-token auth on the metrics listener.
type MetricsAuth struct {
	// Enabled turns auth on. nil means true. Read it with [MetricsAuth.On].
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// Mode is how tokens are checked: [AuthStatic] (default) or
	// [AuthKubernetes].
	Mode string `yaml:"mode" json:"mode"`
	// TokenFile is the path of a file holding the accepted bearer token(s).
	// Required in static mode while auth is enabled; Validate checks that it
	// is set, not that the file exists.
	TokenFile string `yaml:"tokenFile" json:"tokenFile"`
	// Kubernetes tunes [AuthKubernetes] mode.
	Kubernetes KubernetesAuth `yaml:"kubernetes" json:"kubernetes"`
	// FailureLimit throttles failed attempts per client address, in both
	// modes.
	FailureLimit FailureLimit `yaml:"failureLimit" json:"failureLimit"`
}

// KubernetesAuth tunes TokenReview and SubjectAccessReview checks. Results
// are cached; errors never are.
type KubernetesAuth struct {
	// TokenReviewTTL is how long a TokenReview answer (valid or not) is
	// reused. Default 1m.
	TokenReviewTTL Duration `yaml:"tokenReviewTTL" json:"tokenReviewTTL"`
	// AllowTTL and DenyTTL are how long an allowing or denying
	// SubjectAccessReview answer is reused. Defaults 5m and 30s.
	AllowTTL Duration `yaml:"allowTTL" json:"allowTTL"`
	DenyTTL  Duration `yaml:"denyTTL" json:"denyTTL"`
	// Timeout bounds one review; default 2s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
}

// Legacy reports whether the legacy inference_model_* set is emitted.
func (m Metrics) Legacy() bool {
	return slices.Contains(m.Sets(), NameSetLegacy)
}

// Sets returns NameSets, or its default when unset.
func (m Metrics) Sets() []string {
	if m.NameSets != nil {
		return m.NameSets
	}
	sets := []string{NameSetLLMD, NameSetGIE}
	if boolOr(m.LegacyNames, true) {
		sets = append(sets, NameSetLegacy)
	}
	return sets
}

// On returns Enabled, or its default (true) when unset.
func (a MetricsAuth) On() bool {
	return boolOr(a.Enabled, true)
}

// applyDefaults fills unset flags and the label limit.
func (m *Metrics) applyDefaults() {
	m.NameSets = m.Sets()
	if m.ModelNameLimit == 0 {
		m.ModelNameLimit = defaultModelNameLimit
	}
	if m.ModelPairLimit == 0 {
		m.ModelPairLimit = modelComboBudget / max(len(m.NameSets), 1)
	}
	if m.Auth.Enabled == nil {
		m.Auth.Enabled = new(true)
	}
	if m.Auth.Mode == "" {
		m.Auth.Mode = AuthStatic
	}
	m.Auth.FailureLimit.applyDefaults()
	k := &m.Auth.Kubernetes
	durationOr(&k.TokenReviewTTL, defaultTokenReviewTTL)
	durationOr(&k.AllowTTL, defaultAllowTTL)
	durationOr(&k.DenyTTL, defaultDenyTTL)
	durationOr(&k.Timeout, defaultReviewTimeout)
}

// validate checks the label limit and that enabled auth has a token file.
func (m Metrics) validate() []error {
	var errs []error
	if len(m.NameSets) == 0 {
		errs = append(errs, fieldErrorf("metrics.nameSets", "must list at least one of %q, %q, %q", NameSetLLMD, NameSetGIE, NameSetLegacy))
	}
	for i, n := range m.NameSets {
		switch {
		case n != NameSetLLMD && n != NameSetGIE && n != NameSetLegacy:
			errs = append(errs, fieldErrorf(fmt.Sprintf("metrics.nameSets[%d]", i), "%q is not one of %q, %q, %q", n, NameSetLLMD, NameSetGIE, NameSetLegacy))
		case slices.Index(m.NameSets, n) != i:
			errs = append(errs, fieldErrorf(fmt.Sprintf("metrics.nameSets[%d]", i), "%q is listed twice", n))
		}
	}
	if m.LegacyNames != nil && *m.LegacyNames != m.Legacy() {
		errs = append(errs, fieldErrorf("metrics.legacyNames", "is %t but metrics.nameSets %s %q; drop legacyNames (an alias) or make them agree",
			*m.LegacyNames, map[bool]string{true: "lists", false: "does not list"}[m.Legacy()], NameSetLegacy))
	}
	if m.ModelNameLimit < 1 {
		errs = append(errs, fieldErrorf("metrics.modelNameLimit", "must be >= 1, got %d", m.ModelNameLimit))
	}
	if m.ModelPairLimit < 1 {
		errs = append(errs, fieldErrorf("metrics.modelPairLimit", "must be >= 1, got %d", m.ModelPairLimit))
	}
	errs = append(errs, m.Auth.FailureLimit.validate("metrics.auth.failureLimit")...)
	switch m.Auth.Mode {
	case AuthStatic, "":
		if m.Auth.On() && m.Auth.TokenFile == "" {
			errs = append(errs, fieldErrorf("metrics.auth.tokenFile", "is required when metrics.auth.enabled is true"))
		}
	case AuthKubernetes:
		k := m.Auth.Kubernetes
		errs = append(errs, positiveDuration("metrics.auth.kubernetes.tokenReviewTTL", k.TokenReviewTTL)...)
		errs = append(errs, positiveDuration("metrics.auth.kubernetes.allowTTL", k.AllowTTL)...)
		errs = append(errs, positiveDuration("metrics.auth.kubernetes.denyTTL", k.DenyTTL)...)
		errs = append(errs, positiveDuration("metrics.auth.kubernetes.timeout", k.Timeout)...)
	default:
		errs = append(errs, fieldErrorf("metrics.auth.mode", "%q is not one of %q, %q", m.Auth.Mode, AuthStatic, AuthKubernetes))
	}
	return errs
}
