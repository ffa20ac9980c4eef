package config

import "time"

// Upstream defaults.
const (
	defaultConnectTimeout   = 5 * time.Second
	defaultFirstByteTimeout = 5 * time.Minute
	defaultIdleTimeout      = 2 * time.Minute
	defaultMaxRetries       = 2
)

// Upstream tunes the gateway's connections and requests to model servers.
type Upstream struct {
	// ConnectTimeout bounds dialing a model server. Default 5s.
	ConnectTimeout Duration `yaml:"connectTimeout" json:"connectTimeout"`
	// FirstByteTimeout bounds the wait for response headers after the
	// request is sent (prefill included). Default 5m.
	FirstByteTimeout Duration `yaml:"firstByteTimeout" json:"firstByteTimeout"`
	// IdleTimeout bounds the gap between two reads of the response body
	// (between streamed tokens). Default 2m.
	IdleTimeout Duration `yaml:"idleTimeout" json:"idleTimeout"`
	// MaxRetries is how many other endpoints are tried when the chosen one
	// fails before the first response byte (connect error, 502, 503, 504).
	// nil means 2; 0 disables retries; must be >= 0. Read it with
	// [Upstream.Retries].
	MaxRetries *int `yaml:"maxRetries" json:"maxRetries"`
	// HedgeAfter, when positive, sends a second copy of a request that has
	// no response headers after this long to another endpoint and keeps
	// the first answer; each copy counts against MaxRetries. Default 0
	// (off).
	HedgeAfter Duration `yaml:"hedgeAfter" json:"hedgeAfter"`
	// ForwardAuthorization forwards the client's Authorization header to
	// the model server unchanged. nil means true. Read it with
	// [Upstream.ForwardAuth].
	ForwardAuthorization *bool `yaml:"forwardAuthorization" json:"forwardAuthorization"`
	// TLS turns on HTTPS to the model servers.
	TLS UpstreamTLS `yaml:"tls" json:"tls"`
	// OutlierDetection ejects failing endpoints for a while (outlier.go).
	OutlierDetection OutlierDetection `yaml:"outlierDetection" json:"outlierDetection"`
}

// Retries returns MaxRetries, or its default (2) when unset.
func (u Upstream) Retries() int {
	if u.MaxRetries == nil {
		return defaultMaxRetries
	}
	return *u.MaxRetries
}

// ForwardAuth returns ForwardAuthorization, or its default (true) when
// unset.
func (u Upstream) ForwardAuth() bool {
	return boolOr(u.ForwardAuthorization, true)
}

// applyDefaults fills unset timeouts, retries and flags.
func (u *Upstream) applyDefaults() {
	durationOr(&u.ConnectTimeout, defaultConnectTimeout)
	durationOr(&u.FirstByteTimeout, defaultFirstByteTimeout)
	durationOr(&u.IdleTimeout, defaultIdleTimeout)
	if u.MaxRetries == nil {
		u.MaxRetries = new(defaultMaxRetries)
	}
	if u.ForwardAuthorization == nil {
		u.ForwardAuthorization = new(true)
	}
	u.OutlierDetection.applyDefaults()
}

// validate checks timeouts, retries and TLS settings.
func (u Upstream) validate() []error {
	var errs []error
	errs = append(errs, positiveDuration("upstream.connectTimeout", u.ConnectTimeout)...)
	errs = append(errs, positiveDuration("upstream.firstByteTimeout", u.FirstByteTimeout)...)
	errs = append(errs, positiveDuration("upstream.idleTimeout", u.IdleTimeout)...)
	if r := u.Retries(); r < 0 {
		errs = append(errs, fieldErrorf("upstream.maxRetries", "must be >= 0, got %d", r))
	}
	errs = append(errs, u.TLS.validate()...)
	if u.HedgeAfter.Duration < 0 {
		errs = append(errs, fieldErrorf("upstream.hedgeAfter", "must be >= 0, got %v", u.HedgeAfter.Duration))
	}
	errs = append(errs, u.OutlierDetection.validate()...)
	return errs
}

// boolOr returns *p, or def when p is nil.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
