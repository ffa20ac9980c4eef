package kubeauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/testlog"
)

const (
	aliceToken = "alice-token.abc"
	aliceName  = "system:serviceaccount:default:alice"
)

var aliceInfo = authnv1.UserInfo{
	Username: aliceName,
	UID:      "uid-1",
	Groups:   []string{"system:serviceaccounts", "system:authenticated"},
	Extra:    map[string]authnv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"JTI=1"}},
}

func TestAuthenticateReturnsReviewedUser(t *testing.T) {
	tokens := &fakeTokens{respond: tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})}
	d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{Now: newFakeClock().Now})

	u, err := d.Authenticate(context.Background(), aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	want := auth.User{
		Name:   aliceName,
		UID:    "uid-1",
		Groups: []string{"system:serviceaccounts", "system:authenticated"},
		Extra:  map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=1"}},
	}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]authnv1.TokenReviewSpec{{Token: aliceToken}}, tokens.specs); diff != "" {
		t.Errorf("TokenReview specs (-want +got):\n%s", diff)
	}
	// The cache holds the digest of the token, not the token.
	if _, ok := d.tokenCache.items[sha256.Sum256([]byte(aliceToken))]; !ok || d.tokenCache.len() != 1 {
		t.Errorf("token cache does not hold exactly the token's digest (%d entries)", d.tokenCache.len())
	}
}

func TestAuthenticateCache(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		token string
		// advance[i] is how far the clock moves before call i; calls[i]
		// the number of reviews sent after it.
		advance []time.Duration
		calls   []int
		wantErr error
	}{
		{
			name:    "authenticated cached for 1 min by default",
			token:   aliceToken,
			advance: []time.Duration{0, 30 * time.Second, 29 * time.Second, time.Second, 59 * time.Second, time.Second},
			calls:   []int{1, 1, 1, 2, 2, 3},
		},
		{
			name:    "unauthenticated cached for 1 min by default",
			token:   "garbage",
			advance: []time.Duration{0, 59 * time.Second, time.Second, 0},
			calls:   []int{1, 1, 2, 2},
			wantErr: auth.ErrUnauthenticated,
		},
		{
			name:    "custom TokenTTL",
			opts:    Options{TokenTTL: 10 * time.Second, InvalidTokenTTL: time.Hour},
			token:   aliceToken,
			advance: []time.Duration{0, 9 * time.Second, time.Second},
			calls:   []int{1, 1, 2},
		},
		{
			name:    "custom InvalidTokenTTL",
			opts:    Options{TokenTTL: time.Hour, InvalidTokenTTL: 5 * time.Second},
			token:   "garbage",
			advance: []time.Duration{0, 4 * time.Second, time.Second},
			calls:   []int{1, 1, 2},
			wantErr: auth.ErrUnauthenticated,
		},
		{
			name:    "negative TokenTTL disables caching",
			opts:    Options{TokenTTL: -1},
			token:   aliceToken,
			advance: []time.Duration{0, 0, 0},
			calls:   []int{1, 2, 3},
		},
		{
			name:    "negative InvalidTokenTTL disables negative caching",
			opts:    Options{InvalidTokenTTL: -1},
			token:   "garbage",
			advance: []time.Duration{0, 0},
			calls:   []int{1, 2},
			wantErr: auth.ErrUnauthenticated,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			tokens := &fakeTokens{respond: tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})}
			tc.opts.Now = clock.Now
			d, _ := newTestDelegate(t, tokens, &fakeAccess{}, tc.opts)
			for i, adv := range tc.advance {
				clock.Advance(adv)
				u, err := d.Authenticate(context.Background(), tc.token)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("call %d: error %v; want %v", i, err, tc.wantErr)
					}
				} else if err != nil || u.Name != aliceName {
					t.Fatalf("call %d: user %q, error %v; want %q", i, u.Name, err, aliceName)
				}
				if got := tokens.calls(); got != tc.calls[i] {
					t.Fatalf("after call %d (clock +%v): %d reviews; want %d", i, adv, got, tc.calls[i])
				}
			}
		})
	}
}

func TestAuthenticateFailuresNotCached(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
	}{
		{name: "unavailable", err: apierrors.NewServiceUnavailable("etcd down"), wantUnavailable: true},
		{name: "plain", err: apierrors.NewForbidden(authnv1.Resource("tokenreviews"), "", errors.New("no RBAC"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			fail := true
			ok := tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})
			tokens := &fakeTokens{respond: func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
				mu.Lock()
				defer mu.Unlock()
				if fail {
					return authnv1.TokenReviewStatus{}, tc.err
				}
				return ok(ctx, spec)
			}}
			d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{Now: newFakeClock().Now})
			for i := range 2 {
				_, err := d.Authenticate(context.Background(), aliceToken)
				if err == nil || errors.Is(err, auth.ErrUnavailable) != tc.wantUnavailable || errors.Is(err, auth.ErrUnauthenticated) {
					t.Fatalf("call %d: error %v; want a failure (unavailable %v)", i, err, tc.wantUnavailable)
				}
			}
			mu.Lock()
			fail = false
			mu.Unlock()
			if u, err := d.Authenticate(context.Background(), aliceToken); err != nil || u.Name != aliceName {
				t.Fatalf("after recovery: user %q, error %v", u.Name, err)
			}
			if got := tokens.calls(); got != 3 {
				t.Errorf("%d reviews; want 3 (failures are not cached)", got)
			}
		})
	}
}

func TestAuthenticateStatus(t *testing.T) {
	tests := []struct {
		name      string
		audiences []string
		status    authnv1.TokenReviewStatus
		wantUser  string
		wantErr   error // nil, ErrUnauthenticated, or errPlain
		wantInErr string
		wantCache bool
	}{
		{
			name:     "authenticated",
			status:   authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "bob"}},
			wantUser: "bob", wantCache: true,
		},
		{
			name:    "not authenticated with status error",
			status:  authnv1.TokenReviewStatus{Error: "token has expired"},
			wantErr: auth.ErrUnauthenticated, wantInErr: "token has expired", wantCache: true,
		},
		{
			name:    "not authenticated without status error",
			status:  authnv1.TokenReviewStatus{},
			wantErr: auth.ErrUnauthenticated, wantCache: true,
		},
		{
			name:    "authenticated flag false with a user",
			status:  authnv1.TokenReviewStatus{User: authnv1.UserInfo{Username: "bob"}},
			wantErr: auth.ErrUnauthenticated, wantCache: true,
		},
		{
			name:      "audience matches",
			audiences: []string{"infergate", "other"},
			status:    authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "bob"}, Audiences: []string{"other"}},
			wantUser:  "bob", wantCache: true,
		},
		{
			name:      "audience missing",
			audiences: []string{"infergate"},
			status:    authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "bob"}, Audiences: []string{"https://kubernetes.default.svc"}},
			wantErr:   auth.ErrUnauthenticated, wantInErr: "audiences", wantCache: true,
		},
		{
			name:      "no audiences reported",
			audiences: []string{"infergate"},
			status:    authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "bob"}},
			wantErr:   auth.ErrUnauthenticated, wantCache: true,
		},
		{
			name:      "authenticated without a user name",
			status:    authnv1.TokenReviewStatus{Authenticated: true},
			wantErr:   errPlain,
			wantInErr: "without a user name",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tokens := &fakeTokens{respond: func(context.Context, authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
				return tc.status, nil
			}}
			d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{Audiences: tc.audiences, Now: newFakeClock().Now})
			u, err := d.Authenticate(context.Background(), "some-token")
			checkErr(t, err, tc.wantErr, tc.wantInErr)
			if u.Name != tc.wantUser {
				t.Errorf("user %q; want %q", u.Name, tc.wantUser)
			}
			if diff := cmp.Diff(tc.audiences, tokens.specs[0].Audiences); diff != "" {
				t.Errorf("spec.audiences (-want +got):\n%s", diff)
			}
			if got := d.tokenCache.len() == 1; got != tc.wantCache {
				t.Errorf("cached %v; want %v", got, tc.wantCache)
			}
		})
	}
}

func TestAuthenticateEmptyTokenNotReviewed(t *testing.T) {
	tokens := &fakeTokens{respond: tokenTable(nil)}
	d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{})
	if _, err := d.Authenticate(context.Background(), ""); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("error %v; want ErrUnauthenticated", err)
	}
	if n := tokens.calls(); n != 0 {
		t.Errorf("%d reviews for an empty token; want 0", n)
	}
}

// TestAuthenticateCollapsesConcurrentReviews starts many Authenticate calls
// with one token while the API server is slow: exactly one TokenReview is
// sent and every caller gets its answer; a different token is reviewed on
// its own.
func TestAuthenticateCollapsesConcurrentReviews(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		table := tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo, "bob-token": {Username: "bob"}})
		tokens := &fakeTokens{respond: func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
			<-release
			return table(ctx, spec)
		}}
		d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{})

		const n = 50
		var wg sync.WaitGroup
		names := make([]string, n+1)
		errs := make([]error, n+1)
		for i := range n {
			wg.Go(func() {
				u, err := d.Authenticate(context.Background(), aliceToken)
				names[i], errs[i] = u.Name, err
			})
		}
		wg.Go(func() {
			u, err := d.Authenticate(context.Background(), "bob-token")
			names[n], errs[n] = u.Name, err
		})
		synctest.Wait() // every caller is blocked: in the fake or waiting for the flight
		if got := tokens.calls(); got != 2 {
			t.Errorf("%d reviews in flight for 2 distinct tokens and %d callers; want 2", got, n+1)
		}
		close(release)
		wg.Wait()
		for i := range n + 1 {
			want := aliceName
			if i == n {
				want = "bob"
			}
			if errs[i] != nil || names[i] != want {
				t.Errorf("caller %d: user %q, error %v; want %q", i, names[i], errs[i], want)
			}
		}
		if got := tokens.calls(); got != 2 {
			t.Errorf("%d reviews; want 2", got)
		}
		if got := counter(t, d, "reviews", kindToken, resultAllowed); got != 2 {
			t.Errorf("reviews_total{allowed} = %v; want 2", got)
		}
	})
}

// TestReviewTimeout checks that a review the API server does not answer
// fails with ErrUnavailable after the configured timeout, even when the
// caller's context has no deadline.
func TestReviewTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{name: "default", want: 2 * time.Second},
		{name: "configured", timeout: 300 * time.Millisecond, want: 300 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
				tokens := &fakeTokens{respond: func(ctx context.Context, _ authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
					return authnv1.TokenReviewStatus{}, hang(ctx)
				}}
				access := &fakeAccess{respond: func(ctx context.Context, _ authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
					return authzv1.SubjectAccessReviewStatus{}, hang(ctx)
				}}
				d, _ := newTestDelegate(t, tokens, access, Options{Timeout: tc.timeout})

				start := time.Now()
				_, err := d.Authenticate(context.Background(), aliceToken)
				if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Authenticate error %v; want ErrUnavailable wrapping DeadlineExceeded", err)
				}
				if got := time.Since(start); got != tc.want {
					t.Errorf("Authenticate gave up after %v; want %v", got, tc.want)
				}

				start = time.Now()
				allowed, err := d.Authorize(context.Background(), auth.User{Name: "bob"}, "get", "/metrics")
				if allowed || !errors.Is(err, auth.ErrUnavailable) {
					t.Errorf("Authorize = %v, %v; want false, ErrUnavailable", allowed, err)
				}
				if got := time.Since(start); got != tc.want {
					t.Errorf("Authorize gave up after %v; want %v", got, tc.want)
				}
			})
		})
	}
}

// TestReviewSurvivesCallerCancel checks that a caller going away does not
// cancel a review other callers wait for.
func TestReviewSurvivesCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var reviewCtxErr error
		table := tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})
		tokens := &fakeTokens{respond: func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
			<-release
			reviewCtxErr = ctx.Err()
			return table(ctx, spec)
		}}
		d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{})

		first, cancelFirst := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var secondName string
		var secondErr error
		wg.Go(func() { _, _ = d.Authenticate(first, aliceToken) })
		synctest.Wait() // the first caller's review is in the fake
		wg.Go(func() {
			u, err := d.Authenticate(context.Background(), aliceToken)
			secondName, secondErr = u.Name, err
		})
		synctest.Wait()
		cancelFirst()
		close(release)
		wg.Wait()
		if reviewCtxErr != nil {
			t.Errorf("review context ended with the first caller's: %v", reviewCtxErr)
		}
		if secondErr != nil || secondName != aliceName {
			t.Errorf("second caller: user %q, error %v; want %q", secondName, secondErr, aliceName)
		}
		if n := tokens.calls(); n != 1 {
			t.Errorf("%d reviews; want 1", n)
		}
	})
}

// TestTokensNeverLogged runs every outcome with debug logging and checks
// neither the logs nor the errors contain the token.
func TestTokensNeverLogged(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	tests := []struct {
		name    string
		respond func(context.Context, authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error)
	}{
		{name: "authenticated", respond: tokenTable(map[string]authnv1.UserInfo{secret: aliceInfo})},
		{name: "rejected", respond: tokenTable(nil)},
		{name: "unavailable", respond: func(context.Context, authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
			return authnv1.TokenReviewStatus{}, apierrors.NewTooManyRequests("slow down", 1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs testlog.Buffer
			d, _ := newTestDelegate(t, &fakeTokens{respond: tc.respond}, &fakeAccess{respond: allowPaths(aliceName, "/metrics")},
				Options{Logger: debugLogger(&logs)})
			u, err := d.Authenticate(context.Background(), secret)
			if err == nil {
				_, err = d.Authorize(context.Background(), u, "get", "/metrics")
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error contains the token: %v", err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("logs contain the token:\n%s", logs.String())
			}
			if tc.name == "authenticated" && !strings.Contains(logs.String(), aliceName) {
				t.Errorf("debug logs do not name the user:\n%s", logs.String())
			}
		})
	}
}

// errPlain stands for "an error wrapping neither ErrUnauthenticated nor
// ErrUnavailable" in test tables.
var errPlain = errors.New("plain error")

// checkErr checks err against want (nil, a sentinel, or errPlain) and that
// its text contains wantIn.
func checkErr(t *testing.T, err, want error, wantIn string) {
	t.Helper()
	unauth, unavail := errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, auth.ErrUnavailable)
	switch {
	case want == nil && err != nil:
		t.Errorf("error %v; want none", err)
	case want == errPlain && (err == nil || unauth || unavail):
		t.Errorf("error %v; want a plain error (neither unauthenticated nor unavailable)", err)
	case want == auth.ErrUnauthenticated && (!unauth || unavail):
		t.Errorf("error %v; want only ErrUnauthenticated", err)
	case want == auth.ErrUnavailable && (!unavail || unauth):
		t.Errorf("error %v; want only ErrUnavailable", err)
	}
	if wantIn != "" && (err == nil || !strings.Contains(err.Error(), wantIn)) {
		t.Errorf("error %v; want it to contain %q", err, wantIn)
	}
}
