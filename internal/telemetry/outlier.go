package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
)

// OutlierMetrics exports passive outlier detection: it is the
// [pool.OutlierObserver] of every pool's detector, and collects the number
// of endpoints ejected at scrape time.
//
//	infergate_outlier_ejections_total{pool,reason}  counter  (reason: 5xx, connect_failure, first_byte_timeout, probe_failed)
//	infergate_outlier_returns_total{pool}           counter  ejected endpoints back in service after a successful probe
//	infergate_outlier_ejected_endpoints{pool}       gauge    endpoints ejected or half-open now
//
// Pool names come from the configuration or the cluster, never from
// clients. A nil *OutlierMetrics records nothing.
type OutlierMetrics struct {
	ejections *prometheus.CounterVec
	returns   *prometheus.CounterVec
	ejected   *prometheus.Desc
	set       *pool.Set
}

// NewOutlierMetrics creates the families, collecting the gauge over the
// pools of set, and registers them with reg (nil leaves them unregistered).
// It panics if a family is already registered, which is a wiring bug.
func NewOutlierMetrics(reg prometheus.Registerer, set *pool.Set) *OutlierMetrics {
	m := &OutlierMetrics{
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_outlier_ejections_total",
			Help: "Endpoints ejected by passive outlier detection, by pool and reason.",
		}, []string{"pool", "reason"}),
		returns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infergate_outlier_returns_total",
			Help: "Ejected endpoints back in service after a successful half-open probe, by pool.",
		}, []string{"pool"}),
		ejected: prometheus.NewDesc("infergate_outlier_ejected_endpoints",
			"Endpoints passive outlier detection keeps out of service now (ejected or half-open), by pool.",
			[]string{"pool"}, nil),
		set: set,
	}
	if reg != nil {
		reg.MustRegister(m.ejections, m.returns, m)
	}
	return m
}

// Ejected implements [pool.OutlierObserver].
func (m *OutlierMetrics) Ejected(poolName string, reason pool.OutlierReason) {
	if m != nil {
		m.ejections.WithLabelValues(poolName, reason.String()).Inc()
	}
}

// Returned implements [pool.OutlierObserver].
func (m *OutlierMetrics) Returned(poolName string) {
	if m != nil {
		m.returns.WithLabelValues(poolName).Inc()
	}
}

// Describe implements [prometheus.Collector] for the gauge.
func (m *OutlierMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.ejected }

// Collect implements [prometheus.Collector] for the gauge: one series per
// pool, O(endpoints), no locks.
func (m *OutlierMetrics) Collect(ch chan<- prometheus.Metric) {
	if m.set == nil {
		return
	}
	for _, st := range m.set.Stores() {
		n := 0
		for _, ep := range st.Load().Endpoints() {
			if _, ok := ep.EjectedUntil(); ok {
				n++
			}
		}
		ch <- prometheus.MustNewConstMetric(m.ejected, prometheus.GaugeValue, float64(n), st.Name())
	}
}
