package kubeauth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/infergate/infergate/internal/auth"
)

var alice = auth.User{
	Name:   aliceName,
	UID:    "uid-1",
	Groups: []string{"system:serviceaccounts", "system:authenticated"},
	Extra:  map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=1"}},
}

func TestAuthorizeSendsNonResourceReview(t *testing.T) {
	access := &fakeAccess{respond: allowPaths(aliceName, "/metrics")}
	d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{})
	allowed, err := d.Authorize(context.Background(), alice, "get", "/metrics")
	if err != nil || !allowed {
		t.Fatalf("Authorize = %v, %v; want true, nil", allowed, err)
	}
	want := []authzv1.SubjectAccessReviewSpec{{
		User:                  aliceName,
		UID:                   "uid-1",
		Groups:                []string{"system:serviceaccounts", "system:authenticated"},
		Extra:                 map[string]authzv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"JTI=1"}},
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
	}}
	if diff := cmp.Diff(want, access.specs); diff != "" {
		t.Errorf("SubjectAccessReview specs (-want +got):\n%s", diff)
	}
}

func TestAuthorizeDecision(t *testing.T) {
	tests := []struct {
		name   string
		status authzv1.SubjectAccessReviewStatus
		want   bool
	}{
		{name: "allowed", status: authzv1.SubjectAccessReviewStatus{Allowed: true}, want: true},
		{name: "allowed with evaluation error", status: authzv1.SubjectAccessReviewStatus{Allowed: true, EvaluationError: "role not found"}, want: true},
		{name: "no opinion", status: authzv1.SubjectAccessReviewStatus{Reason: "no rule"}, want: false},
		{name: "denied", status: authzv1.SubjectAccessReviewStatus{Denied: true}, want: false},
		{name: "allowed and denied", status: authzv1.SubjectAccessReviewStatus{Allowed: true, Denied: true}, want: false},
		{name: "evaluation error only", status: authzv1.SubjectAccessReviewStatus{EvaluationError: "webhook failed"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			access := &fakeAccess{respond: func(context.Context, authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
				return tc.status, nil
			}}
			d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{})
			got, err := d.Authorize(context.Background(), alice, "get", "/metrics")
			if err != nil || got != tc.want {
				t.Fatalf("Authorize = %v, %v; want %v, nil", got, err, tc.want)
			}
		})
	}
}

func TestAuthorizeCache(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		path    string // allowed for /metrics only
		advance []time.Duration
		calls   []int
	}{
		{
			name:    "allow cached for 5 min by default",
			path:    "/metrics",
			advance: []time.Duration{0, 4 * time.Minute, 59 * time.Second, time.Second, 0},
			calls:   []int{1, 1, 1, 2, 2},
		},
		{
			name:    "deny cached for 30 s by default",
			path:    "/debug/pprof/heap",
			advance: []time.Duration{0, 29 * time.Second, time.Second, 0},
			calls:   []int{1, 1, 2, 2},
		},
		{
			name:    "custom AllowTTL",
			opts:    Options{AllowTTL: time.Second},
			path:    "/metrics",
			advance: []time.Duration{0, 999 * time.Millisecond, time.Millisecond},
			calls:   []int{1, 1, 2},
		},
		{
			name:    "custom DenyTTL",
			opts:    Options{DenyTTL: time.Hour},
			path:    "/dashboard",
			advance: []time.Duration{0, 59 * time.Minute, time.Minute},
			calls:   []int{1, 1, 2},
		},
		{
			name:    "negative AllowTTL disables caching",
			opts:    Options{AllowTTL: -1},
			path:    "/metrics",
			advance: []time.Duration{0, 0},
			calls:   []int{1, 2},
		},
		{
			name:    "negative DenyTTL disables caching",
			opts:    Options{DenyTTL: -1},
			path:    "/dashboard",
			advance: []time.Duration{0, 0},
			calls:   []int{1, 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			access := &fakeAccess{respond: allowPaths(aliceName, "/metrics")}
			tc.opts.Now = clock.Now
			d, _ := newTestDelegate(t, &fakeTokens{}, access, tc.opts)
			for i, adv := range tc.advance {
				clock.Advance(adv)
				allowed, err := d.Authorize(context.Background(), alice, "get", tc.path)
				if err != nil || allowed != (tc.path == "/metrics") {
					t.Fatalf("call %d: Authorize = %v, %v", i, allowed, err)
				}
				if got := access.calls(); got != tc.calls[i] {
					t.Fatalf("after call %d (clock +%v): %d reviews; want %d", i, adv, got, tc.calls[i])
				}
			}
		})
	}
}

// TestAuthorizeCacheKey checks that every input of the review is part of
// the cache key, and nothing else.
func TestAuthorizeCacheKey(t *testing.T) {
	other := func(edit func(u *auth.User)) auth.User {
		u := alice
		u.Groups = append([]string(nil), alice.Groups...)
		u.Extra = map[string][]string{}
		for k, v := range alice.Extra {
			u.Extra[k] = append([]string(nil), v...)
		}
		edit(&u)
		return u
	}
	tests := []struct {
		name      string
		user      auth.User
		verb      string
		path      string
		wantCache bool
	}{
		{name: "same question", user: other(func(*auth.User) {}), verb: "get", path: "/metrics", wantCache: true},
		{name: "other verb", user: alice, verb: "post", path: "/metrics"},
		{name: "other path", user: alice, verb: "get", path: "/metricsx"},
		{name: "other name", user: other(func(u *auth.User) { u.Name = "bob" }), verb: "get", path: "/metrics"},
		{name: "other uid", user: other(func(u *auth.User) { u.UID = "uid-2" }), verb: "get", path: "/metrics"},
		{name: "fewer groups", user: other(func(u *auth.User) { u.Groups = u.Groups[:1] }), verb: "get", path: "/metrics"},
		{name: "groups joined", user: other(func(u *auth.User) { u.Groups = []string{u.Groups[0] + u.Groups[1]} }), verb: "get", path: "/metrics"},
		{name: "other extra value", user: other(func(u *auth.User) { u.Extra["authentication.kubernetes.io/credential-id"] = []string{"JTI=2"} }), verb: "get", path: "/metrics"},
		{name: "extra added", user: other(func(u *auth.User) { u.Extra["x"] = nil }), verb: "get", path: "/metrics"},
		{name: "name shifted into uid", user: other(func(u *auth.User) { u.Name, u.UID = aliceName+"u", "id-1" }), verb: "get", path: "/metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			access := &fakeAccess{respond: allowPaths(aliceName, "/metrics")}
			d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{})
			if _, err := d.Authorize(context.Background(), alice, "get", "/metrics"); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Authorize(context.Background(), tc.user, tc.verb, tc.path); err != nil {
				t.Fatal(err)
			}
			if got := access.calls() == 1; got != tc.wantCache {
				t.Errorf("second question answered from cache: %v; want %v", got, tc.wantCache)
			}
		})
	}
}

func TestAuthorizeFailuresNotCached(t *testing.T) {
	var mu sync.Mutex
	fail := true
	allow := allowPaths(aliceName, "/metrics")
	access := &fakeAccess{respond: func(ctx context.Context, spec authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return authzv1.SubjectAccessReviewStatus{}, apierrors.NewInternalError(errors.New("boom"))
		}
		return allow(ctx, spec)
	}}
	d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{Now: newFakeClock().Now})
	for i := range 2 {
		if allowed, err := d.Authorize(context.Background(), alice, "get", "/metrics"); allowed || !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("call %d: Authorize = %v, %v; want false, ErrUnavailable", i, allowed, err)
		}
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if allowed, err := d.Authorize(context.Background(), alice, "get", "/metrics"); !allowed || err != nil {
		t.Fatalf("after recovery: Authorize = %v, %v; want true, nil", allowed, err)
	}
	if n := access.calls(); n != 3 {
		t.Errorf("%d reviews; want 3 (failures are not cached)", n)
	}
}

func TestAuthorizeUserWithoutName(t *testing.T) {
	access := &fakeAccess{respond: allowPaths("", "/metrics")}
	d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{})
	allowed, err := d.Authorize(context.Background(), auth.User{}, "get", "/metrics")
	if allowed {
		t.Error("allowed a user without a name")
	}
	checkErr(t, err, errPlain, "without a name")
	if n := access.calls(); n != 0 {
		t.Errorf("%d reviews; want 0", n)
	}
}

func TestAuthorizeCollapsesConcurrentReviews(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		allow := allowPaths(aliceName, "/metrics")
		access := &fakeAccess{respond: func(ctx context.Context, spec authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
			<-release
			return allow(ctx, spec)
		}}
		d, _ := newTestDelegate(t, &fakeTokens{}, access, Options{})
		const n = 20
		var wg sync.WaitGroup
		results := make([]bool, n)
		for i := range n {
			wg.Go(func() {
				ok, err := d.Authorize(context.Background(), alice, "get", "/metrics")
				results[i] = ok && err == nil
			})
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		for i, ok := range results {
			if !ok {
				t.Errorf("caller %d not allowed", i)
			}
		}
		if got := access.calls(); got != 1 {
			t.Errorf("%d reviews for %d identical concurrent questions; want 1", got, n)
		}
	})
}
