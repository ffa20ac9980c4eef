package kubeauth

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestMetrics(t *testing.T) {
	clock := newFakeClock()
	table := tokenTable(map[string]authnv1.UserInfo{aliceToken: aliceInfo})
	tokens := &fakeTokens{respond: func(ctx context.Context, spec authnv1.TokenReviewSpec) (authnv1.TokenReviewStatus, error) {
		if spec.Token == "down" {
			return authnv1.TokenReviewStatus{}, apierrors.NewServiceUnavailable("down")
		}
		return table(ctx, spec)
	}}
	access := &fakeAccess{respond: allowPaths(aliceName, "/metrics")}
	d, reg := newTestDelegate(t, tokens, access, Options{Now: clock.Now})
	ctx := context.Background()

	for range 3 { // 1 review, 2 hits
		u, _ := d.Authenticate(ctx, aliceToken)
		_, _ = d.Authorize(ctx, u, "get", "/metrics")
		_, _ = d.Authorize(ctx, u, "get", "/dashboard")
	}
	_, _ = d.Authenticate(ctx, "garbage")
	_, _ = d.Authenticate(ctx, "garbage")
	_, _ = d.Authenticate(ctx, "down")

	want := `
# HELP infergate_auth_review_cache_hits_total Review answers the gateway reused from its caches instead of asking the API server, by kind and result (allowed, denied).
# TYPE infergate_auth_review_cache_hits_total counter
infergate_auth_review_cache_hits_total{kind="subjectaccessreview",result="allowed"} 2
infergate_auth_review_cache_hits_total{kind="subjectaccessreview",result="denied"} 2
infergate_auth_review_cache_hits_total{kind="tokenreview",result="allowed"} 2
infergate_auth_review_cache_hits_total{kind="tokenreview",result="denied"} 1
# HELP infergate_auth_reviews_total Reviews the gateway sent to the Kubernetes API server, by kind (tokenreview, subjectaccessreview) and result (allowed, denied, unavailable, error).
# TYPE infergate_auth_reviews_total counter
infergate_auth_reviews_total{kind="subjectaccessreview",result="allowed"} 1
infergate_auth_reviews_total{kind="subjectaccessreview",result="denied"} 1
infergate_auth_reviews_total{kind="subjectaccessreview",result="error"} 0
infergate_auth_reviews_total{kind="subjectaccessreview",result="unavailable"} 0
infergate_auth_reviews_total{kind="tokenreview",result="allowed"} 1
infergate_auth_reviews_total{kind="tokenreview",result="denied"} 1
infergate_auth_reviews_total{kind="tokenreview",result="error"} 0
infergate_auth_reviews_total{kind="tokenreview",result="unavailable"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"infergate_auth_reviews_total", "infergate_auth_review_cache_hits_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(d.metrics.duration); got != 2 {
		t.Errorf("%d duration series; want 2", got)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		tokens  TokenReviewer
		access  AccessReviewer
		opts    Options
		reg     func() prometheus.Registerer
		wantErr string
	}{
		{name: "zero options", tokens: &fakeTokens{}, access: &fakeAccess{}},
		{name: "nil reviewer", access: &fakeAccess{}, wantErr: "nil TokenReviewer"},
		{name: "negative timeout", tokens: &fakeTokens{}, access: &fakeAccess{}, opts: Options{Timeout: -1}, wantErr: "negative timeout"},
		{name: "negative cache size", tokens: &fakeTokens{}, access: &fakeAccess{}, opts: Options{CacheSize: -1}, wantErr: "negative cache size"},
		{
			name: "metrics registered twice", tokens: &fakeTokens{}, access: &fakeAccess{},
			reg: func() prometheus.Registerer {
				reg := prometheus.NewRegistry()
				if _, err := New(&fakeTokens{}, &fakeAccess{}, Options{Registerer: reg}); err != nil {
					t.Fatal(err)
				}
				return reg
			},
			wantErr: "register metrics",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reg != nil {
				tc.opts.Registerer = tc.reg()
			}
			d, err := New(tc.tokens, tc.access, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []any{d.timeout, d.tokenTTL, d.invalidTokenTTL, d.allowTTL, d.denyTTL, d.tokenCache.limit}
			want := []any{DefaultTimeout, DefaultTokenTTL, DefaultInvalidTokenTTL, DefaultAllowTTL, DefaultDenyTTL, DefaultCacheSize}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("default %d: %v; want %v", i, got[i], want[i])
				}
			}
		})
	}
}
