package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// decisionExposition renders the gateway's decision-latency histogram with
// the given cumulative counts at the telemetry package's boundaries (the
// last count is the +Inf bucket and the sample count).
func decisionExposition(counts ...int) string {
	les := []string{"2.5e-05", "5e-05", "0.0001", "0.0002", "0.0003", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1", "+Inf"}
	var b strings.Builder
	b.WriteString("# HELP " + pickerDecisionFamily + " decisions\n# TYPE " + pickerDecisionFamily + " histogram\n")
	for i, le := range les {
		fmt.Fprintf(&b, "%s_bucket{le=%q} %d\n", pickerDecisionFamily, le, counts[i])
	}
	fmt.Fprintf(&b, "%s_sum 1.5\n%s_count %d\n# TYPE go_goroutines gauge\ngo_goroutines 12\n", pickerDecisionFamily, pickerDecisionFamily, counts[len(counts)-1])
	return b.String()
}

// serveText serves body as a metrics exposition on a loopback listener.
func serveText(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// TestPickerDecisionsFromHistogram: a window's decisions are the
// difference of two scrapes of the gateway's histogram; p50/p99 are
// interpolated within buckets as histogram_quantile does, the shares at or
// under 0.3 ms and 2 ms are exact.
func TestPickerDecisionsFromHistogram(t *testing.T) {
	//          25µ 50µ 100µ 200µ 300µ 500µ 1m  2m  5m  10m 25m 50m 100m 250m 1s  +Inf
	before := []int{0, 1, 5, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10}
	tests := []struct {
		name  string
		after []int
		want  PickerDecisions
	}{{
		// 100 new decisions: 20 in (100µs,200µs], 40 in (200µs,300µs],
		// 30 in (300µs,500µs], 8 in (500µs,1ms], 1 in (1ms,2ms], 1 in (2ms,5ms].
		name:  "spread",
		after: []int{0, 1, 5, 30, 70, 100, 108, 109, 110, 110, 110, 110, 110, 110, 110, 110},
		want: PickerDecisions{Count: 100,
			P50:            200*time.Microsecond + 100*time.Microsecond*30/40, // rank 50: 30 into the 40 of (200µs,300µs]
			P99:            time.Millisecond + time.Millisecond*1/1,           // rank 99: the one of (1ms,2ms]
			AtOrUnder300us: 0.60, AtOrUnder2ms: 0.99},
	}, {
		// Every new decision beyond 1 s: the quantiles are the highest
		// finite bound, nothing is within the targets.
		name:  "all in +Inf",
		after: []int{0, 1, 5, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 14},
		want:  PickerDecisions{Count: 4, P50: time.Second, P99: time.Second},
	}, {
		name:  "no decisions",
		after: before,
		want:  PickerDecisions{},
	}}
	ctx := context.Background()
	hc := &http.Client{Timeout: 5 * time.Second}
	b, err := scrapeDecisionHistogram(ctx, hc, serveText(t, decisionExposition(before...)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := scrapeDecisionHistogram(ctx, hc, serveText(t, decisionExposition(tc.after...)))
			if err != nil {
				t.Fatal(err)
			}
			got := decisionsOf(histogramDelta(a, b))
			if got.Count != tc.want.Count || got.P50 != tc.want.P50 || got.P99 != tc.want.P99 ||
				!near(got.AtOrUnder300us, tc.want.AtOrUnder300us) || !near(got.AtOrUnder2ms, tc.want.AtOrUnder2ms) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestScrapeDecisionHistogramRefuses: a gateway without the family, or
// whose buckets lack a target's boundary, is an error, not zeros.
func TestScrapeDecisionHistogramRefuses(t *testing.T) {
	hc := &http.Client{Timeout: 5 * time.Second}
	noBoundary := strings.ReplaceAll(decisionExposition(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), `le="0.0003"`, `le="0.0004"`)
	for name, body := range map[string]string{
		"absent":      "# TYPE go_goroutines gauge\ngo_goroutines 12\n",
		"no boundary": noBoundary,
	} {
		if _, err := scrapeDecisionHistogram(context.Background(), hc, serveText(t, body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
