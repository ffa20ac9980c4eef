package config

import (
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

func TestOutlierDetectionValidate(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Pools = []Pool{{Name: "p", Endpoints: []Endpoint{{Address: "127.0.0.1:1"}}}}
	c.Metrics.Auth.Enabled = new(false)
	o := &c.Upstream.OutlierDetection
	o.Consecutive5xx = new(-1)
	o.MaxEjectionPercent = new(101)
	o.BaseEjectionTime = Duration{time.Minute}
	o.MaxEjectionTime = Duration{time.Second}
	c.Upstream.HedgeAfter = Duration{-time.Second}
	c.ApplyDefaults()
	err := c.Validate()
	for _, want := range []string{
		"upstream.hedgeAfter: must be >= 0, got -1s",
		"upstream.outlierDetection.consecutive5xx: must be >= 0, got -1",
		"upstream.outlierDetection.maxEjectionPercent: must be in [0, 100], got 101",
		"upstream.outlierDetection.maxEjectionTime: must be >= baseEjectionTime (1m0s), got 1s",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to report %q", err, want)
		}
	}
}

func TestOutlierDetectionDetector(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte("pools: [{name: p, endpoints: [{address: 127.0.0.1:1}]}]\nmetrics: {auth: {enabled: false}}\nupstream:\n  outlierDetection: {consecutive5xx: 0, maxEjectionPercent: 20}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Upstream.OutlierDetection.Detector()
	want := pool.OutlierConfig{Consecutive5xx: 0, ConsecutiveConnectFailures: 3, ConsecutiveFirstByteTimeouts: 2,
		BaseEjectionTime: 30 * time.Second, MaxEjectionTime: 5 * time.Minute, MaxEjectionPercent: 20}
	if got != want || !c.Upstream.OutlierDetection.On() {
		t.Errorf("Detector() = %+v, on %v; want %+v, on", got, c.Upstream.OutlierDetection.On(), want)
	}
}
