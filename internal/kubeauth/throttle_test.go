package kubeauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/infergate/infergate/internal/auth"
)

func TestAuthenticateCached(t *testing.T) {
	clock := newFakeClock()
	tokens := &fakeTokens{respond: tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})}
	d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{Now: clock.Now})
	if _, ok := d.AuthenticateCached(aliceToken); ok {
		t.Error("vouched for a token never reviewed")
	}
	if _, err := d.Authenticate(t.Context(), aliceToken); err != nil {
		t.Fatal(err)
	}
	_, _ = d.Authenticate(t.Context(), "wrong-token")
	if u, ok := d.AuthenticateCached(aliceToken); !ok || u.Name != aliceName {
		t.Errorf("AuthenticateCached(reviewed token) = %v, %v; want %s", u, ok, aliceName)
	}
	if _, ok := d.AuthenticateCached("wrong-token"); ok {
		t.Error("vouched for a token the review rejected")
	}
	if _, ok := d.AuthenticateCached(""); ok {
		t.Error("vouched for the empty token")
	}
	clock.Advance(DefaultTokenTTL)
	if _, ok := d.AuthenticateCached(aliceToken); ok {
		t.Error("vouched for a token whose review expired")
	}
	if n := tokens.calls(); n != 2 {
		t.Errorf("%d TokenReviews, want 2 (AuthenticateCached never reviews)", n)
	}
}

// TestThrottledClientSpendsNoTokenReview runs the auth middleware over a
// Delegate: once an address has failed its burst, its unknown tokens get
// 429 without a TokenReview, while a token the cache holds as valid still
// gets through.
func TestThrottledClientSpendsNoTokenReview(t *testing.T) {
	clock := newFakeClock()
	tokens := &fakeTokens{respond: tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo, "bob-token.abc": {Username: "bob"}})}
	access := &fakeAccess{respond: allowPaths(aliceName, "/metrics")}
	d, _ := newTestDelegate(t, tokens, access, Options{Now: clock.Now})
	failures := auth.NewFailures(auth.FailuresOptions{
		Listener: "metrics",
		Limiter:  auth.NewFailureLimiter(auth.FailureLimitOptions{Burst: 3, PerSecond: 0.1, Now: clock.Now}),
	})
	h := auth.Middleware(d, d, auth.MiddlewareOptions{Failures: failures})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	get := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = "10.1.2.3:4567"
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	if w := get(aliceToken); w.Code != http.StatusOK {
		t.Fatalf("alice: status %d, want 200", w.Code)
	}
	for i := range 3 {
		if w := get("guess-" + string(rune('a'+i))); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i+1, w.Code)
		}
	}
	reviews := tokens.calls()
	if reviews != 4 {
		t.Fatalf("%d TokenReviews before throttling, want 4", reviews)
	}
	for i := range 100 {
		w := get("guess-more-" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("guess while throttled: status %d, Retry-After %q; want 429 with one", w.Code, w.Header().Get("Retry-After"))
		}
	}
	// A valid token the cache does not hold is not reviewed either.
	if w := get("bob-token.abc"); w.Code != http.StatusTooManyRequests {
		t.Errorf("uncached valid token while throttled: status %d, want 429", w.Code)
	}
	if n := tokens.calls() - reviews; n != 0 {
		t.Errorf("%d TokenReviews spent while throttled, want 0", n)
	}
	// The scraper's cached token keeps working from the same address.
	for range 10 {
		if w := get(aliceToken); w.Code != http.StatusOK {
			t.Fatalf("alice while her address is throttled: status %d, want 200", w.Code)
		}
	}
	if n := tokens.calls() - reviews; n != 0 {
		t.Errorf("%d TokenReviews for the cached token, want 0", n)
	}
	// Once the budget refills, a new guess is reviewed again.
	clock.Advance(10 * time.Second)
	if w := get("guess-late"); w.Code != http.StatusUnauthorized {
		t.Errorf("after the refill: status %d, want 401", w.Code)
	}
	if n := tokens.calls() - reviews; n != 1 {
		t.Errorf("%d TokenReviews after the refill, want 1", n)
	}
}
