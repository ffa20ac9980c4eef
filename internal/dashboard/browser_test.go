package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/infergate/infergate/internal/demo"
)

// chromiumPath is where Debian's chromium package puts the browser
// (hack/ensure-chromium.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser test.
const browserTimeout = 3 * time.Minute

// requireChromium returns the browser's path. Without one the test fails
// under CI=true (make test installs it) and is skipped elsewhere.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		found, lerr := exec.LookPath("chromium")
		if lerr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("chromium not found at %s or on PATH; `make test` installs it with hack/ensure-chromium.sh", chromiumPath)
			}
			t.Skipf("chromium not installed (run hack/ensure-chromium.sh); skipping the browser test")
		}
		path = found
	}
	return path
}

// startDemo runs the demo (simulated replicas, the gateway with background
// load) in-process on loopback and returns the proxy and metrics addresses
// and the metrics token. It stops when the test ends.
func startDemo(t *testing.T) (proxyAddr, metricsAddr, token string) {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "metrics.token")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{
			Listen:        "127.0.0.1:0",
			MetricsListen: "127.0.0.1:0",
			TokenFile:     tokenFile,
			Replicas:      3,
			TimeScale:     4,
			Load:          true,
			Ready:         func(p, m string) { ready <- [2]string{p, m} },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case addrs := <-ready:
		proxyAddr, metricsAddr = addrs[0], addrs[1]
	case err := <-done:
		t.Fatalf("demo stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo not ready within 30s")
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	return proxyAddr, metricsAddr, strings.TrimSpace(string(b))
}

// artifactDir returns <repo>/test/artifacts, creating it.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test", "artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually evaluates cond until it returns true, failing after the
// deadline with the last description it gave.
func eventually(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s: not true within 60s; last: %s", what, last)
		case <-ctx.Done():
			t.Fatalf("%s: %v; last: %s", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// pageView is what the test reads from the rendered page.
type pageView struct {
	RequestPath    string `json:"requestPath"`
	RequestPoints  int    `json:"requestPoints"`
	LatencyPaths   int    `json:"latencyPaths"`
	ChartSVGs      int    `json:"chartSVGs"`
	TotalRequests  string `json:"totalRequests"`
	Decisions      int    `json:"decisions"`
	ScorerItems    int    `json:"scorerItems"`
	FirstDecision  string `json:"firstDecision"`
	EndpointRows   int    `json:"endpointRows"`
	ReadyBadges    int    `json:"readyBadges"`
	PoolCard       string `json:"poolCard"`
	DocumentCookie string `json:"documentCookie"`
	Status         string `json:"status"`
}

const readPage = `(() => {
  const q = s => document.querySelector(s);
  const text = s => (q(s) ? q(s).textContent : '');
  const req = q('#chart-requests path.series');
  return {
    requestPath: req ? req.getAttribute('d') : '',
    requestPoints: Number((q('#chart-requests') || {getAttribute: () => 0}).getAttribute('data-points') || 0),
    latencyPaths: document.querySelectorAll('#chart-latency path.series').length,
    chartSVGs: document.querySelectorAll('svg.chart').length,
    totalRequests: text('#total-requests'),
    decisions: document.querySelectorAll('#decisions tbody tr.decision').length,
    scorerItems: document.querySelectorAll('#decisions tbody tr.decision [data-scorer]').length,
    firstDecision: text('#decisions tbody tr.decision'),
    endpointRows: document.querySelectorAll('#endpoints tbody tr[data-endpoint]').length,
    readyBadges: document.querySelectorAll('#endpoints .badge.ready').length,
    poolCard: text('#pools .pool'),
    documentCookie: document.cookie,
    status: text('#status'),
  };
})()`

// leadingInt parses the number at the start of s ("1,234 requests …").
func leadingInt(s string) int {
	s = strings.ReplaceAll(s, ",", "")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

func TestDashboardInBrowser(t *testing.T) {
	browser := requireChromium(t)
	proxyAddr, metricsAddr, token := startDemo(t)
	base := "http://" + metricsAddr
	artifacts := artifactDir(t)

	// Without credentials: 401 and the login page, for the page and the API.
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/dashboard", "/dashboard/api/state"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `name="token"`) {
			t.Fatalf("GET %s without credentials: %d, login form in body: %v", path, resp.StatusCode, strings.Contains(string(body), `name="token"`))
		}
	}
	// A few failing requests, so the error chart has data.
	for range 3 {
		resp, err := client.Post("http://"+proxyAddr+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1440, 1000),
	}
	// Chromium now and then dies while starting on a loaded machine (before
	// it prints its DevTools address); that is the environment, not the
	// page, so starting is tried up to three times.
	var (
		bctx context.Context
		resp *network.Response
		err  error
	)
	for attempt := 1; ; attempt++ {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(opts, chromedp.UserDataDir(t.TempDir()))...)
		defer cancelAlloc()
		var cancelBrowser context.CancelFunc
		bctx, cancelBrowser = chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}), chromedp.WithLogf(func(string, ...any) {}))
		defer cancelBrowser()
		// The login page, as a browser sees it.
		resp, err = chromedp.Run(bctx, chromedp.NavigateResponse(base+"/dashboard"))
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "failed to start") {
			break
		}
		t.Logf("chromium did not start (attempt %d), trying again: %v", attempt, err)
	}
	if err != nil {
		t.Fatalf("open dashboard: %v", err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Fatalf("unauthenticated dashboard status = %d, want 401", resp.Status)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.ID("token")), chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("login form: %v", err)
	}
	if shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
		writeArtifact(t, filepath.Join(artifacts, "dashboard-login.png"), shot)
	}

	// A wrong token shows the form again with the problem.
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("token"), "not-the-token")); err != nil {
		t.Fatal(err)
	}
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("login-submit")))
	if err != nil {
		t.Fatalf("submit wrong token: %v", err)
	}
	problem, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("login-problem")))
	if resp.Status != http.StatusUnauthorized || err != nil || !strings.Contains(problem, "not valid") {
		t.Fatalf("wrong token: status %d, problem %q, %v", resp.Status, problem, err)
	}

	// Log in: type the token and submit.
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("token"), token)); err != nil {
		t.Fatal(err)
	}
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("login-submit")))
	if err != nil {
		t.Fatalf("submit token: %v", err)
	}
	if resp.Status != http.StatusOK || !strings.HasSuffix(resp.URL, "/dashboard") {
		t.Fatalf("after login: %d %s", resp.Status, resp.URL)
	}
	if loc, _ := chromedp.Run(bctx, chromedp.Location()); strings.Contains(loc, token) {
		t.Fatal("the token is in the URL")
	}

	// The session cookie: HttpOnly, SameSite=Strict, a random ID, not the token.
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "infergate_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie among %d cookies", len(cookies.Cookies))
	}
	if !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/dashboard" ||
		strings.Contains(session.Value, token) || len(session.Value) != 43 {
		t.Errorf("session cookie: httpOnly %v, sameSite %q, path %q, value length %d, holds token %v",
			session.HTTPOnly, session.SameSite, session.Path, len(session.Value), strings.Contains(session.Value, token))
	}

	read := func() pageView {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[pageView](readPage))
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		return v
	}

	// Charts render and fill in as the demo's load flows.
	var first pageView
	eventually(t, ctx, "charts render with traffic", func() (bool, string) {
		first = read()
		ok := first.ChartSVGs == 3 && first.RequestPath != "" && first.RequestPoints >= 2 &&
			leadingInt(first.TotalRequests) > 0 && first.LatencyPaths > 0
		return ok, fmt.Sprintf("%+v", first)
	})
	// …and keep updating: the request path and the request total change.
	eventually(t, ctx, "charts update", func() (bool, string) {
		v := read()
		ok := v.RequestPath != first.RequestPath && leadingInt(v.TotalRequests) > leadingInt(first.TotalRequests)
		return ok, fmt.Sprintf("total %q → %q, path changed %v", first.TotalRequests, v.TotalRequests, v.RequestPath != first.RequestPath)
	})

	// Recent decisions explain themselves, endpoints and the pool are shown.
	var v pageView
	eventually(t, ctx, "decisions, endpoints and pool", func() (bool, string) {
		v = read()
		ok := v.Decisions > 0 && v.ScorerItems >= v.Decisions && strings.Contains(v.FirstDecision, "kv-cache") &&
			strings.Contains(v.FirstDecision, "queue") && v.EndpointRows == 3 && v.ReadyBadges == 3 &&
			strings.Contains(v.PoolCard, "3 / 3") && strings.HasPrefix(v.Status, "live")
		return ok, fmt.Sprintf("%+v", v)
	})
	if v.DocumentCookie != "" {
		t.Errorf("document.cookie = %q: the session cookie must be HttpOnly", v.DocumentCookie)
	}

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	writeArtifact(t, filepath.Join(artifacts, "dashboard.png"), shot)

	// Logging out ends the session: back to 401 and the login form.
	resp, err = chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS("#logout-form button")))
	if err != nil {
		t.Fatalf("logout: %v", err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("after logout: status %d, want 401", resp.Status)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Errorf("login form after logout: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/dashboard/api/state", nil)
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("old session cookie after logout: %d, want 401", r.StatusCode)
	}
}

func writeArtifact(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("save %s: %v", path, err)
		return
	}
	t.Logf("saved %s", path)
}
