package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/infergate/infergate/internal/pool"
)

func TestOutlierMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := pool.NewStore("llama")
	eps := st.Sync([]pool.Spec{{Name: "a", Address: "127.0.0.1:1"}, {Name: "b", Address: "127.0.0.1:2"}}).Endpoints()
	m := NewOutlierMetrics(reg, pool.NewSet(st))
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	st.SetOutlierDetector(pool.NewOutlierDetector(pool.OutlierConfig{
		ConsecutiveFirstByteTimeouts: 1, BaseEjectionTime: time.Second, MaxEjectionPercent: 100,
	}, clock, m))
	st.Report(eps[0], pool.ResultFirstByteTimeout)
	st.Report(eps[1], pool.ResultFirstByteTimeout)
	now = now.Add(time.Second)
	st.Report(eps[1], pool.ResultSuccess)
	want := `
# HELP infergate_outlier_ejected_endpoints Endpoints passive outlier detection keeps out of service now (ejected or half-open), by pool.
# TYPE infergate_outlier_ejected_endpoints gauge
infergate_outlier_ejected_endpoints{pool="llama"} 1
# HELP infergate_outlier_ejections_total Endpoints ejected by passive outlier detection, by pool and reason.
# TYPE infergate_outlier_ejections_total counter
infergate_outlier_ejections_total{pool="llama",reason="first_byte_timeout"} 2
# HELP infergate_outlier_returns_total Ejected endpoints back in service after a successful half-open probe, by pool.
# TYPE infergate_outlier_returns_total counter
infergate_outlier_returns_total{pool="llama"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	var nilMetrics *OutlierMetrics
	nilMetrics.Ejected("p", pool.ReasonServerError) // must not panic
	nilMetrics.Returned("p")
}
