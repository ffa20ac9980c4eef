package kubeauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/kubetest"
	"github.com/infergate/infergate/internal/testclock"
	"github.com/infergate/infergate/internal/testlog"
)

const (
	metricsReaderFile = "../../deploy/rbac/metrics-reader.yaml"
	readerSecret      = "inference-gateway-sa-metrics-reader-secret"
	readerUser        = "system:serviceaccount:default:inference-gateway-sa-metrics-reader"
	// apiAudience is the audience of the test API server's tokens (its
	// --service-account-issuer).
	apiAudience = "https://kubernetes.default.svc.cluster.local"
)

// gatewayRBAC gives ServiceAccounts the permissions a gateway using
// kubeauth needs (create tokenreviews and subjectaccessreviews, nothing
// else), and half of them to two others; no-metrics-role is a scraper
// without the metrics-reader ClusterRole. Each ServiceAccount gets a token
// Secret named <name>-token.
const gatewayRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeauth-test-reviewer
rules:
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeauth-test-tokenreviews-only
rules:
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeauth-test-subjectaccessreviews-only
rules:
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: gateway, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: gateway-tokenreviews-only, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: gateway-subjectaccessreviews-only, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: no-metrics-role, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeauth-test-gateway}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeauth-test-reviewer}
subjects: [{kind: ServiceAccount, name: gateway, namespace: default}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeauth-test-gateway-tokenreviews-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeauth-test-tokenreviews-only}
subjects: [{kind: ServiceAccount, name: gateway-tokenreviews-only, namespace: default}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeauth-test-gateway-subjectaccessreviews-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeauth-test-subjectaccessreviews-only}
subjects: [{kind: ServiceAccount, name: gateway-subjectaccessreviews-only, namespace: default}]
---
apiVersion: v1
kind: Secret
metadata:
  name: gateway-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: gateway}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata:
  name: gateway-tokenreviews-only-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: gateway-tokenreviews-only}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata:
  name: gateway-subjectaccessreviews-only-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: gateway-subjectaccessreviews-only}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata:
  name: no-metrics-role-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: no-metrics-role}
type: kubernetes.io/service-account-token
`

// TestKubernetes wires kubeauth into auth.Middleware in front of a real
// handler on loopback, with a real control plane behind it, and reproduces
// Google's metrics-reader verification plus the failure modes: missing
// gateway RBAC, API-server outage, and the review load of a 5 s scrape loop.
func TestKubernetes(t *testing.T) {
	cp := kubetest.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	applier, err := kubetest.NewApplier(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(metricsReaderFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][]byte{manifest, []byte(gatewayRBAC)} {
		if _, err := applier.Apply(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	readerToken := waitForToken(ctx, t, admin, readerSecret)
	otherToken := waitForToken(ctx, t, admin, "no-metrics-role-token")
	gatewayToken := waitForToken(ctx, t, admin, "gateway-token")
	tokenReviewsOnlyToken := waitForToken(ctx, t, admin, "gateway-tokenreviews-only-token")
	accessReviewsOnlyToken := waitForToken(ctx, t, admin, "gateway-subjectaccessreviews-only-token")
	const garbage = "not-a-token"
	allTokens := []string{readerToken, otherToken, gatewayToken, tokenReviewsOnlyToken, accessReviewsOnlyToken}

	// The API server's token and RBAC caches learn the new objects a moment
	// after they are stored; wait for them, so that no review the Delegates
	// cache sees a stale answer.
	for _, tok := range allTokens {
		waitAuthenticated(ctx, t, admin, tok)
	}
	waitAllowed(ctx, t, admin, readerUser, authzv1.SubjectAccessReviewSpec{
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}})
	for _, sa := range []string{"gateway", "gateway-tokenreviews-only"} {
		waitAllowed(ctx, t, admin, "system:serviceaccount:default:"+sa, authzv1.SubjectAccessReviewSpec{
			ResourceAttributes: &authzv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}})
	}
	for _, sa := range []string{"gateway", "gateway-subjectaccessreviews-only"} {
		waitAllowed(ctx, t, admin, "system:serviceaccount:default:"+sa, authzv1.SubjectAccessReviewSpec{
			ResourceAttributes: &authzv1.ResourceAttributes{Group: "authorization.k8s.io", Resource: "subjectaccessreviews", Verb: "create"}})
	}

	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// newGuarded starts a loopback server with the middleware and a
	// Delegate authenticated as the ServiceAccount owning gwToken in front
	// of the Delegate's own /metrics and a pprof-like path.
	newGuarded := func(t *testing.T, gwToken string, opts Options) (*Delegate, *prometheus.Registry, string) {
		t.Helper()
		reg := prometheus.NewRegistry()
		opts.Registerer, opts.Logger = reg, logger
		d, err := NewForConfig(cp.ConfigForToken(gwToken), opts)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "profile") })
		srv := httptest.NewServer(auth.Middleware(d, d, auth.MiddlewareOptions{Logger: logger})(mux))
		t.Cleanup(srv.Close)
		return d, reg, srv.URL
	}

	t.Run("Google metrics-reader verification", func(t *testing.T) {
		_, _, url := newGuarded(t, gatewayToken, Options{})
		tests := []struct {
			name   string
			method string
			path   string
			token  string
			want   int
		}{
			{name: "guide token", path: "/metrics", token: readerToken, want: http.StatusOK},
			{name: "guide token again (cached)", path: "/metrics", token: readerToken, want: http.StatusOK},
			{name: "no token", path: "/metrics", want: http.StatusUnauthorized},
			{name: "garbage token", path: "/metrics", token: garbage, want: http.StatusUnauthorized},
			{name: "ServiceAccount without the ClusterRole", path: "/metrics", token: otherToken, want: http.StatusForbidden},
			{name: "guide token on pprof", path: "/debug/pprof/heap", token: readerToken, want: http.StatusForbidden},
			{name: "guide token POST", method: http.MethodPost, path: "/metrics", token: readerToken, want: http.StatusForbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				code, body := request(ctx, t, tc.method, url+tc.path, tc.token)
				if code != tc.want {
					t.Fatalf("status %d; want %d (body %q)", code, tc.want, body)
				}
				if code == http.StatusOK && !strings.Contains(body, "infergate_auth_reviews_total") {
					t.Errorf("/metrics body lacks infergate_auth_reviews_total:\n%s", body)
				}
			})
		}
	})

	t.Run("audiences", func(t *testing.T) {
		tests := []struct {
			name      string
			audiences []string
			want      int
		}{
			{name: "API server audience", audiences: []string{"other", apiAudience}, want: http.StatusOK},
			{name: "foreign audience", audiences: []string{"infergate-test-foreign"}, want: http.StatusUnauthorized},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, _, url := newGuarded(t, gatewayToken, Options{Audiences: tc.audiences})
				if code, body := request(ctx, t, "", url+"/metrics", readerToken); code != tc.want {
					t.Fatalf("status %d; want %d (body %q)", code, tc.want, body)
				}
			})
		}
	})

	t.Run("gateway without review permissions", func(t *testing.T) {
		tests := []struct {
			name    string
			gwToken string
			missing string
		}{
			{name: "no tokenreviews", gwToken: accessReviewsOnlyToken, missing: "tokenreviews.authentication.k8s.io"},
			{name: "no subjectaccessreviews", gwToken: tokenReviewsOnlyToken, missing: "subjectaccessreviews.authorization.k8s.io"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d, _, url := newGuarded(t, tc.gwToken, Options{})
				for range 2 { // not cached
					if code, body := request(ctx, t, "", url+"/metrics", readerToken); code != http.StatusInternalServerError {
						t.Fatalf("status %d; want 500 (body %q)", code, body)
					}
				}
				want := "lacks permission to create " + tc.missing
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %q:\n%s", want, logs.String())
				}
				// The same error, directly: it names the permission and
				// the gateway's identity, and is neither 401 nor 503.
				u, err := d.Authenticate(ctx, readerToken)
				if err == nil {
					_, err = d.Authorize(ctx, u, "get", "/metrics")
				}
				t.Logf("error: %v", err)
				if err == nil || !strings.Contains(err.Error(), want) ||
					errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrUnavailable) {
					t.Errorf("error %v; want a plain error containing %q", err, want)
				}
			})
		}
	})

	// A scraper polling every 5 s for 10 minutes of (injected) time costs
	// 10 TokenReviews and 2 SubjectAccessReviews, as counted by the API
	// server itself.
	t.Run("5 s scrape loop", func(t *testing.T) {
		clock := testclock.New(time.Now())
		_, scraperReg, scraperURL := newGuarded(t, gatewayToken, Options{Now: clock.Now})
		before := apiserverReviews(ctx, t, cp)
		const scrapes = 120 // 10 min
		for i := range scrapes {
			if i > 0 {
				clock.Advance(5 * time.Second)
			}
			if code, body := request(ctx, t, "", scraperURL+"/metrics", readerToken); code != http.StatusOK {
				t.Fatalf("scrape %d: status %d (body %q)", i, code, body)
			}
		}
		wantOurs := map[string]float64{"tokenreviews": 10, "subjectaccessreviews": 2}
		ours := map[string]float64{
			"tokenreviews":         sumCounter(t, scraperReg, "infergate_auth_reviews_total", "tokenreview"),
			"subjectaccessreviews": sumCounter(t, scraperReg, "infergate_auth_reviews_total", "subjectaccessreview"),
		}
		for res, want := range wantOurs {
			if ours[res] != want {
				t.Errorf("%s sent over %d scrapes: %v; want %v", res, scrapes, ours[res], want)
			}
		}
		// The API server records a request just after answering it: poll.
		deadline := time.Now().Add(10 * time.Second)
		for {
			after := apiserverReviews(ctx, t, cp)
			delta := map[string]float64{}
			for res := range wantOurs {
				delta[res] = after[res] - before[res]
			}
			if delta["tokenreviews"] == ours["tokenreviews"] && delta["subjectaccessreviews"] == ours["subjectaccessreviews"] {
				t.Logf("API server received %v reviews for %d scrapes", delta, scrapes)
				break
			}
			if delta["tokenreviews"] > ours["tokenreviews"] || delta["subjectaccessreviews"] > ours["subjectaccessreviews"] || time.Now().After(deadline) {
				t.Fatalf("API server received %v reviews; the gateway counted %v", delta, ours)
			}
			waitTick(ctx, t)
		}
		if hits := sumCounter(t, scraperReg, "infergate_auth_review_cache_hits_total", "tokenreview"); hits != scrapes-10 {
			t.Errorf("token cache hits %v; want %d", hits, scrapes-10)
		}
	})

	t.Run("API server outage", func(t *testing.T) {
		_, _, freshURL := newGuarded(t, gatewayToken, Options{})
		// warmURL's Delegate has reviewed the reader token; its clock stands
		// still, so the answers stay cached.
		warmClock := testclock.New(time.Now())
		_, _, warmURL := newGuarded(t, gatewayToken, Options{Now: warmClock.Now})
		if code, body := request(ctx, t, "", warmURL+"/metrics", readerToken); code != http.StatusOK {
			t.Fatalf("warming the cache: status %d (body %q)", code, body)
		}
		stopStart := time.Now()
		if err := cp.StopAPIServer(); err != nil {
			t.Fatal(err)
		}
		t.Logf("API server stopped in %v", time.Since(stopStart).Round(time.Millisecond))
		tests := []struct {
			name  string
			url   string
			token string
			want  int
		}{
			{name: "token not cached", url: freshURL, token: readerToken, want: http.StatusServiceUnavailable},
			{name: "garbage not cached", url: freshURL, token: garbage, want: http.StatusServiceUnavailable},
			{name: "other token not cached", url: warmURL, token: otherToken, want: http.StatusServiceUnavailable},
			{name: "cached token keeps working", url: warmURL, token: readerToken, want: http.StatusOK},
		}
		for _, tc := range tests {
			if code, body := request(ctx, t, "", tc.url+"/metrics", tc.token); code != tc.want {
				t.Errorf("%s: status %d; want %d (body %q)", tc.name, code, tc.want, body)
			}
		}
		restart := time.Now()
		if err := cp.StartAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("API server ready again in %v", time.Since(restart).Round(time.Millisecond))
		// Failures were not cached: the same request succeeds once the
		// client has reconnected, and meanwhile answers only 503.
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, body := request(ctx, t, "", freshURL+"/metrics", readerToken)
			if code == http.StatusOK {
				break
			}
			if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("after restart: status %d (body %q); want 503 then 200", code, body)
			}
			waitTick(ctx, t)
		}
		if code, _ := request(ctx, t, "", warmURL+"/metrics", otherToken); code != http.StatusForbidden {
			t.Errorf("after restart, ServiceAccount without the ClusterRole: status %d; want 403", code)
		}
	})

	for _, tok := range allTokens {
		if strings.Contains(logs.String(), tok) {
			t.Fatal("a token appears in the logs")
		}
	}
}

// request sends method (default GET) to url with token as bearer (none if
// empty) and returns the status and body.
func request(ctx context.Context, t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// waitForToken waits for the token controller to fill the
// service-account-token Secret name in default and returns the token.
func waitForToken(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	tok, err := kubetest.WaitForToken(ctx, cs, metav1.NamespaceDefault, name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitAuthenticated polls an admin TokenReview until token authenticates.
func waitAuthenticated(ctx context.Context, t *testing.T, cs kubernetes.Interface, token string) {
	t.Helper()
	poll(ctx, t, "token authenticates", func() error {
		tr, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
			Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if !tr.Status.Authenticated {
			return fmt.Errorf("not authenticated: %s", tr.Status.Error)
		}
		return nil
	})
}

// waitAllowed polls an admin SubjectAccessReview for user (a
// ServiceAccount) until spec is allowed.
func waitAllowed(ctx context.Context, t *testing.T, cs kubernetes.Interface, user string, spec authzv1.SubjectAccessReviewSpec) {
	t.Helper()
	spec.User = user
	spec.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}
	poll(ctx, t, user+" allowed", func() error {
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if !sar.Status.Allowed {
			return fmt.Errorf("denied: %s", sar.Status.Reason)
		}
		return nil
	})
}

// waitTick waits 20ms between polls of a condition.
func waitTick(ctx context.Context, t *testing.T) {
	t.Helper()
	timer := time.NewTimer(20 * time.Millisecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-timer.C:
	}
}

// poll calls check every 20ms until it succeeds, failing the test after
// 30 s.
func poll(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting until %s: %v", what, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}

// apiserverReviews returns how many tokenreviews and subjectaccessreviews
// creations the API server has counted (apiserver_request_total, any code).
func apiserverReviews(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane) map[string]float64 {
	t.Helper()
	cfg := cp.AdminConfig()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET apiserver /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	mf := families["apiserver_request_total"]
	if mf == nil {
		t.Fatal("API server exposes no apiserver_request_total")
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["verb"] == "POST" && (labels["resource"] == "tokenreviews" || labels["resource"] == "subjectaccessreviews") {
			out[labels["resource"]] += m.GetCounter().GetValue()
		}
	}
	return out
}

// sumCounter sums the series of counter name with label kind over results.
func sumCounter(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "kind" && lp.GetValue() == kind {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
