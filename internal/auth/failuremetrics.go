package auth

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons of failed authentication attempts: the values of the reason label
// of infergate_auth_failures_total, a fixed set.
const (
	// ReasonMissing: no credential was presented (401).
	ReasonMissing = "missing"
	// ReasonMalformed: the Authorization header is not one bearer token
	// (401).
	ReasonMalformed = "malformed"
	// ReasonInvalid: the token is not valid (401).
	ReasonInvalid = "invalid"
	// ReasonForbidden: the token is valid but not allowed (403).
	ReasonForbidden = "forbidden"
	// ReasonThrottled: the client's address made too many failed attempts
	// (429).
	ReasonThrottled = "throttled"
	// ReasonUnavailable: the credential could not be checked: the reviewer
	// was unreachable or failed, or the client went away (503 or 500).
	ReasonUnavailable = "unavailable"
)

// failureReasons lists every reason, for initialising the series.
var failureReasons = []string{ReasonMissing, ReasonMalformed, ReasonInvalid, ReasonForbidden, ReasonThrottled, ReasonUnavailable}

// FailureMetrics is the counter infergate_auth_failures_total{listener,
// reason}: failed authentication attempts by listener (a name the gateway
// gives, such as "metrics") and reason (one of the Reason constants). Both
// labels come from fixed sets, never from clients. Safe for concurrent use.
type FailureMetrics struct {
	failures *prometheus.CounterVec
}

// NewFailureMetrics creates the counter and registers it on reg (nil: not
// registered).
func NewFailureMetrics(reg prometheus.Registerer) (*FailureMetrics, error) {
	m := &FailureMetrics{failures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "infergate_auth_failures_total",
		Help: "Failed authentication attempts, by listener and reason (missing, malformed, invalid, forbidden, throttled, unavailable).",
	}, []string{"listener", "reason"})}
	if reg != nil {
		if err := reg.Register(m.failures); err != nil {
			return nil, fmt.Errorf("register infergate_auth_failures_total: %w", err)
		}
	}
	return m, nil
}

// listener returns the counters of one listener, every reason's series
// created at 0 so that rates work from the start.
func (m *FailureMetrics) listener(name string) map[string]prometheus.Counter {
	out := make(map[string]prometheus.Counter, len(failureReasons))
	for _, r := range failureReasons {
		out[r] = m.failures.WithLabelValues(name, r)
	}
	return out
}
