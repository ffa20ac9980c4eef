package modelmetrics

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
)

// Values of the source label of the error counter.
const (
	sourceMetrics = "metrics"
	sourceModels  = "models"
)

// selfMetrics are the scraper's own collectors. A nil *selfMetrics records
// nothing.
type selfMetrics struct {
	duration prometheus.Histogram
	errors   *prometheus.CounterVec
	loops    prometheus.Gauge
}

// newSelfMetrics registers the collectors with reg, or returns nil when reg
// is nil. A collector that reg already holds (a second Scraper on the same
// registry) is shared rather than registered twice.
func newSelfMetrics(reg prometheus.Registerer, logger *slog.Logger) *selfMetrics {
	if reg == nil {
		return nil
	}
	m := &selfMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "infergate_model_server_scrape_duration_seconds",
			Help:    "Duration of model-server metrics scrapes, failed ones included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_model_server_scrape_errors_total",
			Help: "Failed model-server requests, by endpoint and source (metrics or models).",
		}, []string{"endpoint", "source"}),
		loops: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "infergate_model_server_scrape_loops",
			Help: "Per-endpoint scrape loops currently running.",
		}),
	}
	m.duration = register(reg, m.duration, logger)
	m.errors = register(reg, m.errors, logger)
	m.loops = register(reg, m.loops, logger)
	return m
}

// register registers c with reg and returns it, or returns the equal
// collector reg already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, logger *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	logger.Warn("cannot register model server scrape metric", slog.Any("err", err))
	return c
}

func (m *selfMetrics) observeScrape(d time.Duration) {
	if m != nil {
		m.duration.Observe(d.Seconds())
	}
}

func (m *selfMetrics) countError(ep *pool.Endpoint, source string) {
	if m != nil {
		m.errors.WithLabelValues(endpointName(ep), source).Inc()
	}
}

// loopStarted counts a loop and creates its endpoint's error series at 0, so
// that rates over them start with the loop.
func (m *selfMetrics) loopStarted(ep *pool.Endpoint) {
	if m != nil {
		m.loops.Inc()
		m.errors.WithLabelValues(endpointName(ep), sourceMetrics)
		m.errors.WithLabelValues(endpointName(ep), sourceModels)
	}
}

// loopStopped uncounts a loop and drops its endpoint's error series.
func (m *selfMetrics) loopStopped(ep *pool.Endpoint) {
	if m != nil {
		m.loops.Dec()
		m.errors.DeletePartialMatch(prometheus.Labels{"endpoint": endpointName(ep)})
	}
}
