package kubeauth

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/infergate/infergate/internal/testclock"
	"github.com/infergate/infergate/internal/testlog"
)

// fakeTokens is a TokenReviewer answering with respond and recording the
// specs it was asked about.
type fakeTokens struct {
	respond func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error)

	mu    sync.Mutex
	specs []authnv1.TokenReviewSpec
}

func (f *fakeTokens) Create(ctx context.Context, tr *authnv1.TokenReview, _ metav1.CreateOptions) (*authnv1.TokenReview, error) {
	f.mu.Lock()
	f.specs = append(f.specs, tr.Spec)
	f.mu.Unlock()
	st, err := f.respond(ctx, tr.Spec)
	if err != nil {
		return nil, err
	}
	out := tr.DeepCopy()
	out.Status = st
	return out, nil
}

func (f *fakeTokens) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.specs)
}

// fakeAccess is an AccessReviewer answering with respond and recording the
// specs it was asked about.
type fakeAccess struct {
	respond func(ctx context.Context, spec authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error)

	mu    sync.Mutex
	specs []authzv1.SubjectAccessReviewSpec
}

func (f *fakeAccess) Create(ctx context.Context, sar *authzv1.SubjectAccessReview, _ metav1.CreateOptions) (*authzv1.SubjectAccessReview, error) {
	f.mu.Lock()
	f.specs = append(f.specs, *sar.Spec.DeepCopy())
	f.mu.Unlock()
	st, err := f.respond(ctx, sar.Spec)
	if err != nil {
		return nil, err
	}
	out := sar.DeepCopy()
	out.Status = st
	return out, nil
}

func (f *fakeAccess) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.specs)
}

// tokenTable answers TokenReviews from a map of token to user; other tokens
// are not authenticated.
func tokenTable(users map[string]authnv1.UserInfo) func(context.Context, authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
	return func(_ context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
		u, ok := users[spec.Token]
		if !ok {
			return authnv1.TokenReviewStatus{Error: "invalid bearer token"}, nil
		}
		return authnv1.TokenReviewStatus{Authenticated: true, User: u, Audiences: []string{"api"}}, nil
	}
}

// allowPaths answers SubjectAccessReviews allowing user "get" on paths.
func allowPaths(user string, paths ...string) func(context.Context, authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
	return func(_ context.Context, spec authzv1.SubjectAccessReviewSpec) (authzv1.SubjectAccessReviewStatus, error) {
		na := spec.NonResourceAttributes
		if spec.User == user && na != nil && na.Verb == "get" {
			for _, p := range paths {
				if na.Path == p {
					return authzv1.SubjectAccessReviewStatus{Allowed: true, Reason: "test allows"}, nil
				}
			}
		}
		return authzv1.SubjectAccessReviewStatus{Reason: "no rule"}, nil
	}
}

// newFakeClock returns a manually advanced clock at a fixed date.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// debugLogger returns a logger writing debug records to buf.
func debugLogger(buf *testlog.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestDelegate builds a Delegate over the fakes with a fake clock and a
// fresh registry, failing the test on error.
func newTestDelegate(t *testing.T, tokens TokenReviewer, access AccessReviewer, opts Options) (*Delegate, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	d, err := New(tokens, access, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, reg
}

// counter returns the value of a kubeauth counter series.
func counter(t *testing.T, d *Delegate, name, kind, result string) float64 {
	t.Helper()
	switch name {
	case "reviews":
		return testutil.ToFloat64(d.metrics.reviews.WithLabelValues(kind, result))
	case "cache_hits":
		return testutil.ToFloat64(d.metrics.cacheHits.WithLabelValues(kind, result))
	}
	t.Fatalf("unknown counter %s", name)
	return 0
}
