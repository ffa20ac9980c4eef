package config

import "time"

// Scrape defaults.
const (
	defaultScrapeInterval       = 50 * time.Millisecond
	defaultScrapeTimeout        = 40 * time.Millisecond
	defaultScrapeStaleness      = 2 * time.Second
	defaultScrapeModelsInterval = 5 * time.Second
)

// Scrape tunes how the gateway reads model-server metrics and model lists.
type Scrape struct {
	// Interval is the time between metric scrapes of one endpoint. Default
	// 50ms.
	Interval Duration `yaml:"interval" json:"interval"`
	// Timeout bounds one metrics scrape; it must be less than Interval.
	// Default 40ms.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Staleness is how old an endpoint's last good scrape may be before its
	// metrics are treated as unknown; at least Interval. Default 2s.
	Staleness Duration `yaml:"staleness" json:"staleness"`
	// ModelsInterval is the time between reads of an endpoint's /v1/models.
	// Default 5s.
	ModelsInterval Duration `yaml:"modelsInterval" json:"modelsInterval"`
}

// applyDefaults fills unset durations.
func (s *Scrape) applyDefaults() {
	durationOr(&s.Interval, defaultScrapeInterval)
	durationOr(&s.Timeout, defaultScrapeTimeout)
	durationOr(&s.Staleness, defaultScrapeStaleness)
	durationOr(&s.ModelsInterval, defaultScrapeModelsInterval)
}

// validate checks that durations are positive and consistent.
func (s Scrape) validate() []error {
	var errs []error
	errs = append(errs, positiveDuration("scrape.interval", s.Interval)...)
	errs = append(errs, positiveDuration("scrape.timeout", s.Timeout)...)
	errs = append(errs, positiveDuration("scrape.staleness", s.Staleness)...)
	errs = append(errs, positiveDuration("scrape.modelsInterval", s.ModelsInterval)...)
	if s.Interval.Duration > 0 && s.Timeout.Duration > 0 && s.Timeout.Duration >= s.Interval.Duration {
		errs = append(errs, fieldErrorf("scrape.timeout", "%s must be less than scrape.interval (%s)", s.Timeout, s.Interval))
	}
	if s.Interval.Duration > 0 && s.Staleness.Duration > 0 && s.Staleness.Duration < s.Interval.Duration {
		errs = append(errs, fieldErrorf("scrape.staleness", "%s must be at least scrape.interval (%s)", s.Staleness, s.Interval))
	}
	return errs
}

// durationOr sets *d to def when it is zero.
func durationOr(d *Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}
