package kubeauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the kind label.
const (
	kindToken  = "tokenreview"
	kindAccess = "subjectaccessreview"
)

// Values of the result label.
const (
	resultAllowed     = "allowed"
	resultDenied      = "denied"
	resultUnavailable = "unavailable"
	resultError       = "error"
)

// metrics are the package's collectors; see the package doc.
type metrics struct {
	reviews   *prometheus.CounterVec
	cacheHits *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// newMetrics creates the collectors and registers them on reg unless it is
// nil. Every kind and result series starts at zero.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_auth_reviews_total",
			Help: "Reviews the gateway sent to the Kubernetes API server, by kind (tokenreview, subjectaccessreview) and result (allowed, denied, unavailable, error).",
		}, []string{"kind", "result"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_auth_review_cache_hits_total",
			Help: "Review answers the gateway reused from its caches instead of asking the API server, by kind and result (allowed, denied).",
		}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "infergate_auth_review_duration_seconds",
			Help:    "Duration of review calls to the Kubernetes API server, by kind, failures included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"kind"}),
	}
	for _, kind := range []string{kindToken, kindAccess} {
		for _, result := range []string{resultAllowed, resultDenied, resultUnavailable, resultError} {
			m.reviews.WithLabelValues(kind, result)
		}
		m.cacheHits.WithLabelValues(kind, resultAllowed)
		m.cacheHits.WithLabelValues(kind, resultDenied)
		m.duration.WithLabelValues(kind)
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.reviews, m.cacheHits, m.duration} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return m, nil
}

// review counts a review sent to the API server.
func (m *metrics) review(kind, result string) {
	m.reviews.WithLabelValues(kind, result).Inc()
}

// cacheHit counts an answer reused from a cache.
func (m *metrics) cacheHit(kind, result string) {
	m.cacheHits.WithLabelValues(kind, result).Inc()
}

// observe records the duration of a review call.
func (m *metrics) observe(kind string, d time.Duration) {
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}
