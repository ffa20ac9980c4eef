package config

// Defaults of [FailureLimit].
const (
	defaultFailureBurst      = 10
	defaultFailuresPerSecond = 1.0
)

// FailureLimit throttles failed authentication attempts on the metrics
// listener per client address (IPv6 clients per /64): an address may fail
// Burst times in a row, then PerSecond times per second; past that its
// attempts get 429 with Retry-After, except those with a token already
// known to be valid. Bearer tokens and dashboard logins share the budget.
type FailureLimit struct {
	// Burst is how many failed attempts an address may make in a row.
	// Default 10; must be >= 1.
	Burst int `yaml:"burst" json:"burst"`
	// PerSecond is how many failed attempts per second an address earns
	// back, up to Burst. Default 1; must be > 0.
	PerSecond float64 `yaml:"perSecond" json:"perSecond"`
}

// applyDefaults fills zero fields.
func (f *FailureLimit) applyDefaults() {
	if f.Burst == 0 {
		f.Burst = defaultFailureBurst
	}
	if f.PerSecond == 0 {
		f.PerSecond = defaultFailuresPerSecond
	}
}

// validate checks the limit; field is its path.
func (f FailureLimit) validate(field string) []error {
	var errs []error
	if f.Burst < 1 {
		errs = append(errs, fieldErrorf(field+".burst", "must be >= 1, got %d", f.Burst))
	}
	if !(f.PerSecond > 0) || f.PerSecond > 1e6 {
		errs = append(errs, fieldErrorf(field+".perSecond", "must be > 0 and at most 1000000, got %g", f.PerSecond))
	}
	return errs
}
