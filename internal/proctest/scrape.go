package proctest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape fetches and parses the Prometheus text exposition at url, sending
// token as a bearer token when it is not empty. It fails the test unless the
// answer is 200 and parses.
func Scrape(tb testing.TB, url, token string) map[string]*dto.MetricFamily {
	tb.Helper()
	fams, err := TryScrape(url, token)
	if err != nil {
		tb.Fatal(err)
	}
	return fams
}

// TryScrape is [Scrape] returning the error instead of failing.
func TryScrape(url, token string) (map[string]*dto.MetricFamily, error) {
	return TryScrapeWith(http.DefaultClient, url, token)
}

// TryScrapeWith is [TryScrape] sending the request with client (for
// example one that trusts a test CA).
func TryScrapeWith(client *http.Client, url, token string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return fams, nil
}

// Sum adds the values of every series of a counter, gauge or untyped
// family; 0 when the family is absent.
func Sum(fams map[string]*dto.MetricFamily, name string) float64 {
	total := 0.0
	for _, m := range fams[name].GetMetric() {
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// Eventually polls cond every 20ms until it returns nil, failing the test
// with cond's last error when d passes first.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		// Poll pause; the deadline above bounds the wait.
		<-time.After(20 * time.Millisecond)
	}
}
