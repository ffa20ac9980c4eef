package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// decisionBuckets, in seconds: infergate_extproc_decision_duration_seconds.
// 0.0003 and 0.002 are boundaries so that the share of decisions within the
// picker's targets (p50 ≤ 0.3 ms, p99 ≤ 2 ms) is read exactly.
var decisionBuckets = []float64{
	0.000025, 0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
}

// newDecisionHistogram returns infergate_extproc_decision_duration_seconds.
func newDecisionHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "infergate_extproc_decision_duration_seconds",
		Help: "The ext_proc picker's decision latency: from receiving the message that ends a request " +
			"(the body chunk with end_of_stream, or the headers or trailers) to handing the header response " +
			"with the decision to gRPC, in seconds. Immediate responses (rejections) are not counted.",
		Buckets: decisionBuckets,
	})
}

// ObserveDecision records one ext_proc decision's latency in
// infergate_extproc_decision_duration_seconds; it allocates nothing. It
// implements extproc.DecisionObserver.
func (m *Metrics) ObserveDecision(d time.Duration) {
	if m == nil {
		return
	}
	m.decisions.Observe(d.Seconds())
}
