package auth

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/infergate/infergate/internal/testclock"
)

// countingAuthn wraps an Authenticator and counts its calls, as a
// TokenReview client would be counted.
type countingAuthn struct {
	Authenticator
	mu    sync.Mutex
	calls int
}

func (c *countingAuthn) Authenticate(ctx context.Context, token string) (User, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Authenticator.Authenticate(ctx, token)
}

func (c *countingAuthn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// throttleEnv is a Middleware with a failure limiter of burst 3 and one
// failure per 10 s, its metrics and its logs.
type throttleEnv struct {
	h     http.Handler
	f     *Failures
	clock *testclock.Clock
	logs  *bytes.Buffer
}

func newThrottleEnv(t *testing.T, authn Authenticator) *throttleEnv {
	t.Helper()
	clock := newFakeClock()
	reg := prometheus.NewRegistry()
	m, err := NewFailureMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	f := NewFailures(FailuresOptions{
		Listener: "metrics",
		Limiter:  NewFailureLimiter(FailureLimitOptions{Burst: 3, PerSecond: 0.1, Now: clock.Now}),
		Metrics:  m,
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      clock.Now,
	})
	return &throttleEnv{
		h: Middleware(authn, AllowAll{}, MiddlewareOptions{Failures: f})(echoUser),
		f: f, clock: clock, logs: &logs,
	}
}

// do sends GET /metrics from remote with the Authorization header auth (none
// when empty).
func (e *throttleEnv) do(remote, auth string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.RemoteAddr = remote
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *throttleEnv) failures(reason string) float64 {
	return testutil.ToFloat64(e.f.counters[reason])
}

func TestMiddlewareThrottlesFailuresNotValidTokens(t *testing.T) {
	const valid = "valid-token-0123456789"
	e := newThrottleEnv(t, NewStaticTokens(map[string]string{valid: "scraper"}))
	const attacker = "192.0.2.1:40000"

	for i := range 3 {
		if w := e.do(attacker, "Bearer wrong-"+string(rune('a'+i))); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, w.Code)
		}
	}
	w := e.do(attacker, "Bearer wrong-d")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("past the burst: status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After = %q, want 10", got)
	}
	if body := w.Body.String(); len(body) > 100 || !strings.Contains(body, "too many failed") {
		t.Errorf("429 body %q, want a short explanation", body)
	}
	// A malformed header from the throttled address is throttled too.
	if w := e.do(attacker, "Basic Zm9vOmJhcg=="); w.Code != http.StatusTooManyRequests {
		t.Errorf("malformed header while throttled: status %d, want 429", w.Code)
	}
	// A request without credentials is not an attempt: still 401.
	if w := e.do(attacker, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("no header while throttled: status %d, want 401", w.Code)
	}
	// A valid token from the same address keeps working, over and over
	// (a scraper behind the same NAT as the guesser).
	for range 20 {
		if w := e.do("192.0.2.1:40001", "Bearer "+valid); w.Code != http.StatusOK || w.Body.String() != "hello scraper" {
			t.Fatalf("valid token from a throttled address: %d %q, want 200", w.Code, w.Body.String())
		}
	}
	// Another address is not affected.
	if w := e.do("192.0.2.2:1", "Bearer wrong-e"); w.Code != http.StatusUnauthorized {
		t.Errorf("other address: status %d, want 401", w.Code)
	}
	// After the refill time one more failure is allowed, then 429 again.
	e.clock.Advance(10 * time.Second)
	if w := e.do(attacker, "Bearer wrong-f"); w.Code != http.StatusUnauthorized {
		t.Errorf("after 10 s: status %d, want 401", w.Code)
	}
	if w := e.do(attacker, "Bearer wrong-g"); w.Code != http.StatusTooManyRequests {
		t.Errorf("after one refilled failure: status %d, want 429", w.Code)
	}

	for reason, want := range map[string]float64{
		ReasonInvalid: 5, ReasonThrottled: 3, ReasonMissing: 1, ReasonMalformed: 0, ReasonForbidden: 0, ReasonUnavailable: 0,
	} {
		if got := e.failures(reason); got != want {
			t.Errorf("infergate_auth_failures_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	// 9 failures plus a request without a header over two log intervals:
	// at most one line per reason per interval.
	if n := strings.Count(e.logs.String(), "\n"); n > 5 {
		t.Errorf("%d log lines for 10 failures within 10 s, want at most 5:\n%s", n, e.logs)
	}
	if !strings.Contains(e.logs.String(), "suppressed=") {
		t.Errorf("logs do not say how many lines were suppressed:\n%s", e.logs)
	}
	if strings.Contains(e.logs.String(), "wrong-") || strings.Contains(e.logs.String(), valid) {
		t.Errorf("logs contain a token:\n%s", e.logs)
	}
}

func TestMiddlewareThrottledSpendsNoReview(t *testing.T) {
	// An authenticator that cannot vouch for tokens without calling out
	// (no CachedAuthenticator): while throttled, nothing reaches it, not
	// even a valid token.
	authn := &countingAuthn{Authenticator: fakeAuthn{"good-token-0123456789": {user: User{Name: "alice"}}}}
	e := newThrottleEnv(t, authn)
	for range 3 {
		e.do("192.0.2.1:1", "Bearer wrong")
	}
	before := authn.count()
	for range 50 {
		if w := e.do("192.0.2.1:1", "Bearer wrong"); w.Code != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", w.Code)
		}
	}
	if w := e.do("192.0.2.1:1", "Bearer good-token-0123456789"); w.Code != http.StatusTooManyRequests {
		t.Errorf("unvouched valid token while throttled: status %d, want 429", w.Code)
	}
	if n := authn.count() - before; n != 0 {
		t.Errorf("%d authentications while throttled, want 0", n)
	}
}

func TestMiddlewareOnlyInvalidTokensCount(t *testing.T) {
	authn, authz := newFakes()
	clock := newFakeClock()
	f := NewFailures(FailuresOptions{Limiter: NewFailureLimiter(FailureLimitOptions{Burst: 2, PerSecond: 0.001, Now: clock.Now})})
	h := Middleware(authn, authz, MiddlewareOptions{Failures: f})(echoUser)
	do := func(auth string) int {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = "192.0.2.9:1"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		_, _ = io.Copy(io.Discard, w.Body)
		return w.Code
	}
	// Valid, denied, unanswerable and absent credentials never use up the
	// budget.
	for range 10 {
		for auth, want := range map[string]int{"Bearer good": 200, "Bearer bob-token": 403, "Bearer down": 503, "Bearer carol-token": 503, "": 401} {
			if got := do(auth); got != want {
				t.Fatalf("%q: status %d, want %d", auth, got, want)
			}
		}
	}
	if got := do("Bearer nope"); got != 401 {
		t.Errorf("first invalid token: %d, want 401", got)
	}
	if got := do("Bearer a b"); got != 401 {
		t.Errorf("malformed header: %d, want 401", got)
	}
	if got := do("Bearer nope"); got != 429 {
		t.Errorf("third failure: %d, want 429", got)
	}
}

func TestFailureMetricsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewFailureMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	NewFailures(FailuresOptions{Listener: "metrics", Metrics: m})
	if n, err := testutil.GatherAndCount(reg, "infergate_auth_failures_total"); err != nil || n != len(failureReasons) {
		t.Errorf("%d series (err %v), want one per reason (%d) from the start", n, err, len(failureReasons))
	}
	if _, err := NewFailureMetrics(reg); err == nil {
		t.Error("registering the counter twice did not fail")
	}
}
