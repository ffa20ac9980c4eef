package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/demo"
)

// testInterval is the wait between the two scrapes in tests.
const testInterval = 100 * time.Millisecond

// gatewayEnv is a running demo: simulated replicas and the gateway.
type gatewayEnv struct {
	proxy, metrics string
	tokenFile      string
}

func startGateway(t *testing.T) gatewayEnv {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "metrics.token")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{
			Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", TokenFile: tokenFile,
			Replicas: 2, TimeScale: 8,
			Ready: func(p, m string) { ready <- [2]string{p, m} },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case a := <-ready:
		return gatewayEnv{proxy: a[0], metrics: a[1], tokenFile: tokenFile}
	case err := <-done:
		t.Fatalf("demo stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo not ready within 30s")
	}
	return gatewayEnv{}
}

// sendRequest sends one chat completion through the gateway.
func sendRequest(t *testing.T, proxy string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+proxy+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"llama","messages":[{"role":"user","content":"hello"}],"max_tokens":4}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("request through the gateway: %d", resp.StatusCode)
	}
}

// verdicts maps check names to verdicts.
func verdicts(r *Report) map[string]Verdict {
	out := map[string]Verdict{}
	for _, c := range r.Checks {
		out[c.Name] = c.Verdict
	}
	return out
}

// run runs the doctor with a short interval and a client that is closed
// afterwards.
func run(t *testing.T, o Options) *Report {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	o.Client, o.Interval = client, testInterval
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return Run(ctx, o)
}

// writeFile writes a temporary file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAgainstGateway(t *testing.T) {
	env := startGateway(t)
	sendRequest(t, env.proxy)
	metricsURL := "http://" + env.metrics + "/metrics"

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String() + "/metrics"
	closed.Close()

	skipped := func(names ...string) map[string]Verdict {
		m := map[string]Verdict{}
		for _, n := range names {
			m[n] = Skip
		}
		return m
	}
	after := []string{CheckExposition, CheckRequests, CheckLatency, CheckReadyPods, CheckPoolGauges, CheckBuildInfo, CheckLive}
	merge := func(a map[string]Verdict, b map[string]Verdict) map[string]Verdict {
		for k, v := range b {
			a[k] = v
		}
		return a
	}

	tests := []struct {
		name string
		opts Options
		// healthy reruns the doctor until nothing fails (bounded): on a
		// loaded machine an endpoint's metrics can briefly go stale.
		healthy      bool
		want         map[string]Verdict
		wantFailed   int
		wantInDetail map[string]string // check → substring of Detail
		wantInFix    map[string]string // check → substring of Fix
	}{
		{
			name:    "good token: everything passes",
			opts:    Options{URL: metricsURL, Token: FileToken(env.tokenFile)},
			healthy: true,
			want: map[string]Verdict{CheckToken: Pass, CheckReachable: Pass, CheckAuth: Pass, CheckExposition: Pass, CheckRequests: Pass,
				CheckLatency: Pass, CheckReadyPods: Pass, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Pass},
			wantInDetail: map[string]string{CheckReadyPods: "demo: 2", CheckRequests: "legacy inference_model_request_total too"},
		},
		{
			name:         "wrong token: 401 explained",
			opts:         Options{URL: metricsURL, Token: FileToken(writeFile(t, "not-the-token\n"))},
			want:         merge(map[string]Verdict{CheckToken: Pass, CheckReachable: Pass, CheckAuth: Fail}, skipped(after...)),
			wantFailed:   1,
			wantInDetail: map[string]string{CheckAuth: "401 Unauthorized: the token from file"},
			wantInFix:    map[string]string{CheckAuth: ReaderSecret},
		},
		{
			name:         "no token: 401 says none was sent",
			opts:         Options{URL: metricsURL},
			want:         merge(map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Fail}, skipped(after...)),
			wantFailed:   1,
			wantInDetail: map[string]string{CheckAuth: "none was sent"},
			wantInFix:    map[string]string{CheckAuth: "--token-file"},
		},
		{
			name:         "missing token file",
			opts:         Options{URL: metricsURL, Token: FileToken(filepath.Join(t.TempDir(), "nope"))},
			want:         merge(map[string]Verdict{CheckToken: Fail, CheckReachable: Pass, CheckAuth: Fail}, skipped(after...)),
			wantFailed:   2,
			wantInDetail: map[string]string{CheckToken: "no such file"},
		},
		{
			name:         "unreachable",
			opts:         Options{URL: refused, Token: FileToken(env.tokenFile)},
			want:         merge(map[string]Verdict{CheckToken: Pass, CheckReachable: Fail, CheckAuth: Skip}, skipped(after...)),
			wantFailed:   1,
			wantInDetail: map[string]string{CheckReachable: "connection refused"},
			wantInFix:    map[string]string{CheckReachable: "9090"},
		},
		{
			name:         "wrong path",
			opts:         Options{URL: "http://" + env.metrics + "/metricz", Token: FileToken(env.tokenFile)},
			want:         merge(map[string]Verdict{CheckToken: Pass, CheckReachable: Pass, CheckAuth: Fail}, skipped(after...)),
			wantFailed:   1,
			wantInDetail: map[string]string{CheckAuth: "404"},
		},
		{
			name:         "https to the plain-HTTP listener",
			opts:         Options{URL: "https://" + env.metrics + "/metrics", Token: FileToken(env.tokenFile)},
			want:         merge(map[string]Verdict{CheckToken: Pass, CheckReachable: Fail, CheckAuth: Skip}, skipped(after...)),
			wantFailed:   1,
			wantInDetail: map[string]string{CheckReachable: "plain HTTP"},
		},
		{
			name: "token from a Kubernetes secret without cluster access",
			opts: Options{URL: metricsURL, Token: SecretToken{Namespace: "default", Name: ReaderSecret},
				Cluster: &Cluster{Kubeconfig: filepath.Join(t.TempDir(), "no-kubeconfig")}},
			want: merge(map[string]Verdict{CheckCluster: Fail, CheckToken: Fail, CheckReachable: Pass, CheckAuth: Fail},
				skipped(append(after, CheckPods, CheckMetricsPort, CheckMetricsRBAC, CheckSecretRBAC, CheckMonitoring)...)),
			wantFailed:   3,
			wantInDetail: map[string]string{CheckCluster: "no-kubeconfig does not exist", CheckToken: "needs access to the Kubernetes API", CheckPods: "needs cluster access"},
			wantInFix:    map[string]string{CheckCluster: "--kubeconfig", CheckToken: "kubectl get secret " + ReaderSecret + " -n default"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.opts)
			for deadline := time.Now().Add(60 * time.Second); tc.healthy && r.Failed() > 0 && time.Now().Before(deadline); {
				r = run(t, tc.opts)
			}
			if diff := cmp.Diff(tc.want, verdicts(r)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s\n%s", diff, format(r))
			}
			if got := r.Failed(); got != tc.wantFailed {
				t.Errorf("Failed() = %d, want %d", got, tc.wantFailed)
			}
			for name, sub := range tc.wantInDetail {
				if c, _ := r.Find(name); !strings.Contains(c.Detail, sub) {
					t.Errorf("%s detail %q lacks %q", name, c.Detail, sub)
				}
			}
			for name, sub := range tc.wantInFix {
				if c, _ := r.Find(name); !strings.Contains(c.Fix, sub) {
					t.Errorf("%s fix %q lacks %q", name, c.Fix, sub)
				}
			}
			for _, c := range r.Checks {
				if c.Verdict == Fail && c.Fix == "" {
					t.Errorf("failed check %s has no fix", c.Name)
				}
			}
			if tok, err := os.ReadFile(env.tokenFile); err == nil && strings.Contains(format(r), strings.TrimSpace(string(tok))) {
				t.Error("the report prints the token")
			}
		})
	}
}

// format renders a report for failure messages.
func format(r *Report) string {
	var b strings.Builder
	_ = r.Write(&b)
	return b.String()
}

// denyAll is an Authorizer that allows nobody.
type denyAll struct{}

func (denyAll) Authorize(context.Context, auth.User, string, string) (bool, error) { return false, nil }

func TestForbidden(t *testing.T) {
	t.Parallel()
	tokens := auth.NewStaticTokens(map[string]string{"scraper-token": "system:serviceaccount:gmp:collector"})
	srv := httptest.NewServer(auth.Middleware(tokens, denyAll{}, auth.MiddlewareOptions{})(http.NotFoundHandler()))
	defer srv.Close()
	r := run(t, Options{URL: srv.URL + "/metrics", Token: FileToken(writeFile(t, "scraper-token"))})
	c, _ := r.Find(CheckAuth)
	if c.Verdict != Fail || !strings.Contains(c.Detail, "403 Forbidden") || !strings.Contains(c.Detail, "may not GET /metrics") {
		t.Errorf("auth check = %+v", c)
	}
	for _, want := range []string{ReaderClusterRole, ReaderServiceAccount, `nonResourceURLs ["/metrics"]`, `verbs ["get"]`} {
		if !strings.Contains(c.Fix, want) {
			t.Errorf("fix %q does not name %s", c.Fix, want)
		}
	}
}

// TestThrottled: a metrics listener that throttles this address's failed
// attempts answers 429, and doctor says why and what to do.
func TestThrottled(t *testing.T) {
	t.Parallel()
	tokens := auth.NewStaticTokens(map[string]string{"the-right-scraper-token": "scraper"})
	failures := auth.NewFailures(auth.FailuresOptions{Listener: "metrics",
		Limiter: auth.NewFailureLimiter(auth.FailureLimitOptions{Burst: 1, PerSecond: 1e-6})})
	srv := httptest.NewServer(auth.Middleware(tokens, auth.AllowAll{}, auth.MiddlewareOptions{Failures: failures})(http.NotFoundHandler()))
	defer srv.Close()
	wrong := FileToken(writeFile(t, "a-wrong-token-of-some-length"))
	run(t, Options{URL: srv.URL + "/metrics", Token: wrong}) // spends the budget of one
	r := run(t, Options{URL: srv.URL + "/metrics", Token: wrong})
	c, _ := r.Find(CheckAuth)
	if c.Verdict != Fail || !strings.Contains(c.Detail, "429") || !strings.Contains(c.Detail, "throttled") || !strings.Contains(c.Fix, "failureLimit") {
		t.Errorf("auth check = %+v, want the 429 explained", c)
	}
}

// exposition is a minimal gateway exposition with ready pods per pool.
func exposition(ready map[string]int) string {
	var b strings.Builder
	b.WriteString("# TYPE inference_objective_request_total counter\ninference_objective_request_total{model_name=\"m\",target_model_name=\"m\",priority=\"0\"} 5\n")
	b.WriteString("# TYPE inference_objective_request_duration_seconds histogram\n" +
		"inference_objective_request_duration_seconds_bucket{model_name=\"m\",target_model_name=\"m\",le=\"+Inf\"} 5\n" +
		"inference_objective_request_duration_seconds_sum{model_name=\"m\",target_model_name=\"m\"} 1\n" +
		"inference_objective_request_duration_seconds_count{model_name=\"m\",target_model_name=\"m\"} 5\n")
	b.WriteString("# TYPE inference_pool_ready_pods gauge\n")
	for name, n := range ready {
		fmt.Fprintf(&b, "inference_pool_ready_pods{name=%q} %d\n", name, n)
	}
	b.WriteString("# TYPE inference_pool_average_kv_cache_utilization gauge\ninference_pool_average_kv_cache_utilization{name=\"p\"} 0.25\n")
	b.WriteString("# TYPE inference_pool_average_queue_size gauge\ninference_pool_average_queue_size{name=\"p\"} 1\n")
	b.WriteString("# TYPE inference_extension_info gauge\ninference_extension_info{commit=\"abc\",build_ref=\"v1\"} 1\n")
	return b.String()
}

// freshGateway is the exposition of a gateway that has served no request:
// the request families have no series yet.
const freshGateway = `# TYPE inference_pool_ready_pods gauge
inference_pool_ready_pods{name="p"} 1
# TYPE inference_pool_average_kv_cache_utilization gauge
inference_pool_average_kv_cache_utilization{name="p"} 0
# TYPE inference_pool_average_queue_size gauge
inference_pool_average_queue_size{name="p"} 0
# TYPE inference_extension_info gauge
inference_extension_info{commit="c",build_ref="r"} 1
`

func TestFakeEndpoints(t *testing.T) {
	t.Parallel()
	serve := func(status int, contentType string, bodies ...string) *httptest.Server {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			i := min(int(n.Add(1))-1, len(bodies)-1)
			code := status
			if bodies[i] == "FAIL" {
				code = http.StatusInternalServerError
			}
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(code)
			_, _ = io.WriteString(w, bodies[i])
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	const text = "text/plain; version=0.0.4"
	vllm := "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m\"} 0\n"
	tests := []struct {
		name         string
		srv          *httptest.Server
		want         map[string]Verdict
		wantInDetail map[string]string
	}{
		{
			name: "a model server's metrics: the gateway families are missing",
			srv:  serve(200, text, vllm),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Fail,
				CheckLatency: Fail, CheckReadyPods: Fail, CheckPoolGauges: Fail, CheckBuildInfo: Fail, CheckLive: Warn},
			wantInDetail: map[string]string{CheckRequests: "neither inference_objective_request_total nor inference_model_request_total",
				CheckPoolGauges: "inference_pool_average_kv_cache_utilization"},
		},
		{
			name: "a pool without ready endpoints",
			srv:  serve(200, text, exposition(map[string]int{"a": 2, "b": 0}), exposition(map[string]int{"a": 3, "b": 0})),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Pass,
				CheckLatency: Pass, CheckReadyPods: Fail, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Pass},
			wantInDetail: map[string]string{CheckReadyPods: "pool b", CheckBuildInfo: "commit=abc build_ref=v1", CheckLive: "values change"},
		},
		{
			name: "a fresh gateway without requests, unchanged between scrapes",
			srv:  serve(200, text, freshGateway),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Warn,
				CheckLatency: Warn, CheckReadyPods: Pass, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Warn},
			wantInDetail: map[string]string{CheckRequests: "no request has gone through", CheckLive: "nothing changed"},
		},
		{
			name: "legacy names only",
			srv:  serve(200, text, strings.ReplaceAll(exposition(map[string]int{"p": 1}), "inference_objective_", "inference_model_")),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Warn,
				CheckLatency: Pass, CheckReadyPods: Pass, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Warn},
			wantInDetail: map[string]string{CheckRequests: "only the legacy"},
		},
		{
			// metrics.nameSets: [llm-d]
			name: "llm-d names only",
			srv: serve(200, text, strings.NewReplacer("inference_objective_request_", "llm_d_epp_request_", "inference_pool_ready_pods", "llm_d_epp_ready_endpoints",
				"inference_pool_", "llm_d_epp_", "inference_extension_", "llm_d_epp_").Replace(exposition(map[string]int{"p": 1}))),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Pass,
				CheckLatency: Pass, CheckReadyPods: Pass, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Warn},
			wantInDetail: map[string]string{CheckRequests: "llm_d_epp_request_total = 5", CheckBuildInfo: "commit=abc"},
		},
		{
			name: "HTML instead of an exposition",
			srv:  serve(200, "text/html", "<!doctype html><html><body>hi</body></html>"),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Fail, CheckRequests: Skip,
				CheckLatency: Skip, CheckReadyPods: Skip, CheckPoolGauges: Skip, CheckBuildInfo: Skip, CheckLive: Skip},
			wantInDetail: map[string]string{CheckExposition: "got HTML"},
		},
		{
			name: "answers once, then fails",
			srv:  serve(200, text, exposition(map[string]int{"p": 1}), "FAIL"),
			want: map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Warn, CheckExposition: Pass, CheckRequests: Pass,
				CheckLatency: Pass, CheckReadyPods: Pass, CheckPoolGauges: Pass, CheckBuildInfo: Pass, CheckLive: Fail},
			wantInDetail: map[string]string{CheckLive: "second scrape answered 500"},
		},
		{
			name:         "500 from the auth filter",
			srv:          serve(500, "text/plain", "Authentication failed\n"),
			want:         map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Fail, CheckExposition: Skip, CheckRequests: Skip, CheckLatency: Skip, CheckReadyPods: Skip, CheckPoolGauges: Skip, CheckBuildInfo: Skip, CheckLive: Skip},
			wantInDetail: map[string]string{CheckAuth: `server said "Authentication failed"`},
		},
		{
			name:         "503 while the reviewer is down",
			srv:          serve(503, "text/plain", "Service Unavailable\n"),
			want:         map[string]Verdict{CheckToken: Warn, CheckReachable: Pass, CheckAuth: Fail, CheckExposition: Skip, CheckRequests: Skip, CheckLatency: Skip, CheckReadyPods: Skip, CheckPoolGauges: Skip, CheckBuildInfo: Skip, CheckLive: Skip},
			wantInDetail: map[string]string{CheckAuth: "503"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, Options{URL: tc.srv.URL + "/metrics"})
			if diff := cmp.Diff(tc.want, verdicts(r)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s\n%s", diff, format(r))
			}
			for name, sub := range tc.wantInDetail {
				if c, _ := r.Find(name); !strings.Contains(c.Detail, sub) {
					t.Errorf("%s detail %q lacks %q", name, c.Detail, sub)
				}
			}
		})
	}
}

func TestReportWrite(t *testing.T) {
	t.Parallel()
	r := &Report{Target: "http://127.0.0.1:9090/metrics"}
	r.add(CheckToken, Pass, "read from file t (4 characters)", "")
	r.add(CheckAuth, Fail, "401 Unauthorized", "put the token in t")
	r.add(CheckRequests, Warn, "no requests yet", "send one")
	r.add(CheckMetricsRBAC, Skip, "needs --token-secret", "")
	want := `infergate doctor: http://127.0.0.1:9090/metrics

✓ token        read from file t (4 characters)
✗ auth         401 Unauthorized
    fix: put the token in t
! requests     no requests yet
    fix: send one
– metrics rbac needs --token-secret

1 problem found.
`
	if diff := cmp.Diff(want, format(r)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestTokenFromFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{name: "credentials file", content: "abc123\n", want: "abc123"},
		{name: "surrounding whitespace and BOM", content: "\uFEFF  abc123  \r\n", want: "abc123"},
		{name: "gateway token file", content: "# tokens\n\nfirst,alice\nsecond,bob\n", want: "first"},
		{name: "empty", content: "\n# nothing\n", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FileToken(writeFile(t, tc.content)).Token(t.Context())
			if err != nil || got != tc.want {
				t.Errorf("Token() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzChecks runs every exposition check over arbitrary bytes: no panic,
// every check gets a valid verdict, and details stay on one line.
func FuzzChecks(f *testing.F) {
	f.Add([]byte(exposition(map[string]int{"p": 1})))
	f.Add([]byte("# TYPE inference_pool_ready_pods counter\ninference_pool_ready_pods 3\n"))
	f.Add([]byte("# TYPE inference_objective_request_total gauge\ninference_objective_request_total NaN\n"))
	f.Add([]byte("inference_extension_info{commit=\"a\\nb\",build_ref=\"\\u0000\"} 1\n"))
	f.Add([]byte("inference_pool_ready_pods{name=\"a\\nb\"} 0\n"))
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fams, err := parseExposition(body)
		if err != nil {
			return
		}
		r := &Report{}
		r.checkRequests(fams)
		r.checkLatency(fams)
		r.checkReadyPods(fams)
		r.checkPoolGauges(fams)
		r.checkBuildInfo(fams)
		r.checkLive(fams, fams, time.Second)
		for _, c := range r.Checks {
			if c.Verdict < Pass || c.Verdict > Skip || strings.ContainsAny(c.Detail, "\n\r") {
				t.Fatalf("check %+v", c)
			}
		}
	})
}
