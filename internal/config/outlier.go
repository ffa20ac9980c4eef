package config

import (
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// Outlier-detection defaults.
const (
	defaultConsecutive5xx               = 5
	defaultConsecutiveConnectFailures   = 3
	defaultConsecutiveFirstByteTimeouts = 2
	defaultBaseEjectionTime             = 30 * time.Second
	defaultMaxEjectionTime              = 5 * time.Minute
	defaultMaxEjectionPercent           = 50
)

// OutlierDetection tunes passive outlier detection per endpoint, as Envoy's
// (upstream.outlierDetection): consecutive failures of one kind eject an
// endpoint for a time that grows with repeated ejections; once it is over
// the endpoint gets one request at a time (half-open) until one succeeds.
type OutlierDetection struct {
	// Enabled turns outlier detection on. nil means true. Read it with
	// [OutlierDetection.On].
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// Consecutive5xx is the number of 5xx answers in a row that eject an
	// endpoint; 0 disables the trigger. nil means 5.
	Consecutive5xx *int `yaml:"consecutive5xx" json:"consecutive5xx"`
	// ConsecutiveConnectFailures is the number of attempts in a row that
	// got no answer (refused, reset or closed before response headers)
	// that eject an endpoint; 0 disables the trigger. nil means 3.
	ConsecutiveConnectFailures *int `yaml:"consecutiveConnectFailures" json:"consecutiveConnectFailures"`
	// ConsecutiveFirstByteTimeouts is the number of first-byte timeouts in a
	// row that eject an endpoint; 0 disables the trigger. nil means 2.
	ConsecutiveFirstByteTimeouts *int `yaml:"consecutiveFirstByteTimeouts" json:"consecutiveFirstByteTimeouts"`
	// BaseEjectionTime is the first ejection's length; the n-th ejection in
	// a row lasts n times as long. Default 30s.
	BaseEjectionTime Duration `yaml:"baseEjectionTime" json:"baseEjectionTime"`
	// MaxEjectionTime caps an ejection's length; an endpoint in service
	// this long starts again at BaseEjectionTime. Default 5m; must be >=
	// BaseEjectionTime.
	MaxEjectionTime Duration `yaml:"maxEjectionTime" json:"maxEjectionTime"`
	// MaxEjectionPercent is the largest share (0–100) of a pool's endpoints
	// ejected at once; one endpoint may always be ejected. nil means 50.
	MaxEjectionPercent *int `yaml:"maxEjectionPercent" json:"maxEjectionPercent"`
}

// On returns Enabled, or its default (true) when unset.
func (o OutlierDetection) On() bool { return boolOr(o.Enabled, true) }

// Detector returns the pool package's configuration (call after
// [Config.ApplyDefaults]).
func (o OutlierDetection) Detector() pool.OutlierConfig {
	return pool.OutlierConfig{
		Consecutive5xx:               intOr(o.Consecutive5xx, defaultConsecutive5xx),
		ConsecutiveConnectFailures:   intOr(o.ConsecutiveConnectFailures, defaultConsecutiveConnectFailures),
		ConsecutiveFirstByteTimeouts: intOr(o.ConsecutiveFirstByteTimeouts, defaultConsecutiveFirstByteTimeouts),
		BaseEjectionTime:             o.BaseEjectionTime.Duration,
		MaxEjectionTime:              o.MaxEjectionTime.Duration,
		MaxEjectionPercent:           intOr(o.MaxEjectionPercent, defaultMaxEjectionPercent),
	}
}

// applyDefaults fills unset fields.
func (o *OutlierDetection) applyDefaults() {
	if o.Enabled == nil {
		o.Enabled = new(true)
	}
	intDefault(&o.Consecutive5xx, defaultConsecutive5xx)
	intDefault(&o.ConsecutiveConnectFailures, defaultConsecutiveConnectFailures)
	intDefault(&o.ConsecutiveFirstByteTimeouts, defaultConsecutiveFirstByteTimeouts)
	intDefault(&o.MaxEjectionPercent, defaultMaxEjectionPercent)
	durationOr(&o.BaseEjectionTime, defaultBaseEjectionTime)
	durationOr(&o.MaxEjectionTime, defaultMaxEjectionTime)
}

// validate checks thresholds, times and the share.
func (o OutlierDetection) validate() []error {
	const path = "upstream.outlierDetection."
	var errs []error
	for _, f := range []struct {
		name string
		v    *int
	}{
		{"consecutive5xx", o.Consecutive5xx},
		{"consecutiveConnectFailures", o.ConsecutiveConnectFailures},
		{"consecutiveFirstByteTimeouts", o.ConsecutiveFirstByteTimeouts},
	} {
		if v := intOr(f.v, 0); v < 0 {
			errs = append(errs, fieldErrorf(path+f.name, "must be >= 0, got %d", v))
		}
	}
	if p := intOr(o.MaxEjectionPercent, defaultMaxEjectionPercent); p < 0 || p > 100 {
		errs = append(errs, fieldErrorf(path+"maxEjectionPercent", "must be in [0, 100], got %d", p))
	}
	base := positiveDuration(path+"baseEjectionTime", o.BaseEjectionTime)
	errs = append(errs, base...)
	errs = append(errs, positiveDuration(path+"maxEjectionTime", o.MaxEjectionTime)...)
	if len(base) == 0 && o.MaxEjectionTime.Duration > 0 && o.MaxEjectionTime.Duration < o.BaseEjectionTime.Duration {
		errs = append(errs, fieldErrorf(path+"maxEjectionTime", "must be >= baseEjectionTime (%v), got %v", o.BaseEjectionTime.Duration, o.MaxEjectionTime.Duration))
	}
	return errs
}

// intOr returns *p, or def when p is nil.
func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// intDefault sets *p to def when it is unset.
func intDefault(p **int, def int) {
	if *p == nil {
		*p = new(def)
	}
}
