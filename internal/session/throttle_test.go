package session

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/testclock"
)

// TestLoginThrottled checks that failed logins and failed bearer tokens
// from one address share one failure budget, that past it logins get 429
// with Retry-After, and that a valid token still logs in.
func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Unix(1000, 0))
	reg := prometheus.NewRegistry()
	fm, err := auth.NewFailureMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	failures := auth.NewFailures(auth.FailuresOptions{
		Listener: "metrics",
		Limiter:  auth.NewFailureLimiter(auth.FailureLimitOptions{Burst: 4, PerSecond: 0.25, Now: clock.Now}),
		Metrics:  fm,
	})
	m := New(Options{
		Authenticator: auth.NewStaticTokens(map[string]string{"alice-token-0123456789": "alice"}),
		Authorizer:    auth.AllowAll{},
		Path:          "/dashboard",
		LoginPage:     testPage,
		Failures:      failures,
	})
	guarded := m.Guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	send := func(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
		r.RemoteAddr = "198.51.100.4:5000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	login := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(http.HandlerFunc(m.ServeLogin), r)
	}
	bearer := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		return send(guarded, r)
	}

	// Two failed logins and two failed bearer tokens use up the burst of 4.
	for _, w := range []*httptest.ResponseRecorder{login("guess-1"), bearer("guess-2"), login("guess-3"), bearer("guess-4")} {
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("failure within the burst: status %d, want 401", w.Code)
		}
	}
	w := login("guess-5")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("login past the burst: status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "4" {
		t.Errorf("Retry-After = %q, want 4", got)
	}
	if !strings.Contains(w.Body.String(), "Too many failed attempts") || !strings.Contains(w.Body.String(), `name="token"`) {
		t.Errorf("429 login page %q, want the form and the problem", w.Body.String())
	}
	if w := bearer("guess-6"); w.Code != http.StatusTooManyRequests {
		t.Errorf("bearer past the shared burst: status %d, want 429", w.Code)
	}
	// A valid token still logs in from the throttled address.
	if w := login("alice-token-0123456789"); w.Code != http.StatusSeeOther {
		t.Errorf("valid login from a throttled address: status %d, want 303", w.Code)
	}
	if got := failureCount(t, reg, "invalid"); got != 4 {
		t.Errorf("invalid failures = %v, want 4", got)
	}
	if got := failureCount(t, reg, "throttled"); got != 2 {
		t.Errorf("throttled failures = %v, want 2", got)
	}
}

// failureCount returns infergate_auth_failures_total{listener="metrics",
// reason} from reg.
func failureCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if f.GetName() == "infergate_auth_failures_total" && labels["listener"] == "metrics" && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series for reason %q", reason)
	return 0
}
