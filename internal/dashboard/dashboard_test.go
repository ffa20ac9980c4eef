package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/session"
)

var testNow = time.Unix(5000, 0)

// testPool returns a pool with a fresh, a stale and a never-scraped endpoint.
func testPool() *pool.Store {
	st := pool.NewStore("main")
	snap := st.Sync([]pool.Spec{
		{Name: "fresh", Address: "127.0.0.1:1"},
		{Name: "stale", Address: "127.0.0.1:2", Engine: pool.EngineSGLang},
		{Name: "new", Address: "127.0.0.1:3"},
	})
	eps := snap.Endpoints()
	eps[0].SetMetrics(&pool.Metrics{WaitingQueue: 3, Running: 5, KVCacheUsage: 0.5, ActiveAdapters: []string{"sql-lora"},
		WaitingAdapters: []string{"code-lora"}, MaxAdapters: 2, ScrapedAt: testNow.Add(-100 * time.Millisecond)})
	eps[0].Acquire(40)
	eps[1].SetMetrics(&pool.Metrics{WaitingQueue: 9, KVCacheUsage: 0.9, ScrapedAt: testNow.Add(-time.Minute)})
	eps[2].RecordScrapeFailure()
	// Outlier detection ejected the stale one 10 s ago for 30 s.
	st.SetOutlierDetector(pool.NewOutlierDetector(pool.OutlierConfig{
		ConsecutiveConnectFailures: 1, BaseEjectionTime: 30 * time.Second, MaxEjectionPercent: 100,
	}, func() time.Time { return testNow.Add(-10 * time.Second) }, nil))
	st.Report(eps[1], pool.ResultConnectFailure)
	return st
}

func newTestServer(t *testing.T, withAuth bool) *httptest.Server {
	t.Helper()
	decisions := NewDecisions(4)
	decisions.RecordDecision(record(1))
	o := Options{
		Pools:     pool.NewSet(testPool()),
		Staleness: time.Second,
		Decisions: decisions,
		Sampler:   NewSampler(SamplerOptions{Gatherer: prometheus.NewRegistry()}),
		Now:       func() time.Time { return testNow },
	}
	if withAuth {
		o.Sessions = session.New(session.Options{
			Authenticator: auth.NewStaticTokens(map[string]string{"good-token": "alice"}),
			Authorizer:    auth.AllowAll{},
			Path:          Path,
			LoginPage:     LoginPage,
		})
	}
	srv := httptest.NewServer(New(o))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	bearer := http.Header{"Authorization": {"Bearer good-token"}}
	tests := []struct {
		name        string
		auth        bool
		path        string
		header      http.Header
		wantStatus  int
		wantType    string
		wantBody    []string
		wantMissing []string
	}{
		{name: "page without credentials is the login form", auth: true, path: "/dashboard", wantStatus: 401, wantType: "text/html",
			wantBody: []string{`<form method="post" action="/dashboard/login"`, `name="token"`, "metrics.auth.tokenFile"}, wantMissing: []string{"chart-requests"}},
		{name: "API without credentials is refused", auth: true, path: "/dashboard/api/state", wantStatus: 401, wantMissing: []string{"127.0.0.1:1", "sql-lora"}},
		{name: "wrong token is refused", auth: true, path: "/dashboard/api/state", header: http.Header{"Authorization": {"Bearer nope"}}, wantStatus: 401},
		{name: "page with a bearer token", auth: true, path: "/dashboard", header: bearer, wantStatus: 200, wantType: "text/html",
			wantBody: []string{`id="chart-requests"`, `src="/dashboard/assets/app.js"`}},
		{name: "API with a bearer token", auth: true, path: "/dashboard/api/state", header: bearer, wantStatus: 200, wantType: "application/json", wantBody: []string{`"user":"alice"`}},
		{name: "assets are public", auth: true, path: "/dashboard/assets/app.js", wantStatus: 200, wantType: "text/javascript", wantBody: []string{"/dashboard/api/state"}},
		{name: "stylesheet", auth: true, path: "/dashboard/assets/style.css", wantStatus: 200, wantType: "text/css"},
		{name: "templates are not assets", auth: true, path: "/dashboard/assets/login.html", wantStatus: 404},
		{name: "trailing slash redirects", auth: true, path: "/dashboard/", wantStatus: 301},
		{name: "unknown path", auth: true, path: "/dashboard/nope", wantStatus: 404},
		{name: "login page answers GET with 405 and the form", auth: true, path: "/dashboard/login", wantStatus: 405, wantBody: []string{`name="token"`}},
		{name: "open dashboard without auth", path: "/dashboard/api/state", wantStatus: 200, wantBody: []string{`"authRequired":false`}},
		{name: "no login route without auth", path: "/dashboard/login", wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, tc.auth)
			resp, body := get(t, srv, tc.path, tc.header)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %.200q", resp.StatusCode, tc.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type = %q, want %q", ct, tc.wantType)
			}
			for _, s := range tc.wantBody {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			for _, s := range tc.wantMissing {
				if strings.Contains(body, s) {
					t.Errorf("body has %q", s)
				}
			}
			for h, want := range map[string]string{
				"Content-Security-Policy": contentSecurityPolicy,
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
		})
	}
}

func TestLoginPageEscapesProblem(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	LoginPage(rec, httptest.NewRequest(http.MethodGet, "/dashboard", nil), http.StatusUnauthorized, `<script>alert(1)</script>`)
	if rec.Code != 401 || strings.Contains(rec.Body.String(), "<script>alert") || !strings.Contains(rec.Body.String(), "&lt;script&gt;") {
		t.Errorf("status %d, body %s", rec.Code, rec.Body)
	}
}

func TestLoginThenState(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, true)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+LoginPath, url.Values{"token": {"good-token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != Path || strings.Contains(c.Value, "good-token") {
		t.Errorf("cookie %+v", c)
	}
	r, body := get(t, srv, StatePath, http.Header{"Cookie": {c.Name + "=" + c.Value}})
	if r.StatusCode != 200 {
		t.Fatalf("state with session: %d", r.StatusCode)
	}
	var st State
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.User != "alice" || !st.AuthRequired {
		t.Errorf("user %q, authRequired %v", st.User, st.AuthRequired)
	}
}

func TestState(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, false)
	_, body := get(t, srv, StatePath, nil)
	var st State
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	want := []PoolState{{
		Name: "main", ReadyEndpoints: 1, TotalEndpoints: 3, AverageKVCache: 0.5, AverageQueue: 3, TotalQueue: 3, InFlight: 1,
		Endpoints: []EndpointState{
			{Name: "fresh", Address: "127.0.0.1:1", Engine: "vllm", Ready: true, Scraped: true, ScrapeAgeSeconds: 0.1, Queue: 3, Running: 5,
				KVCache: 0.5, Adapters: []string{"sql-lora"}, WaitingAdapters: []string{"code-lora"}, MaxAdapters: 2, InFlight: 1, InFlightTokens: 40},
			{Name: "stale", Address: "127.0.0.1:2", Engine: "sglang", Scraped: true, ScrapeAgeSeconds: 60, Queue: 9, KVCache: 0.9,
				Adapters: []string{}, WaitingAdapters: []string{}, Ejected: true, EjectedForSeconds: 20},
			{Name: "new", Address: "127.0.0.1:3", Engine: "vllm", ScrapeFailures: 1, Adapters: []string{}, WaitingAdapters: []string{}},
		},
	}}
	if diff := cmp.Diff(want, st.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"queue", "kv-cache", "prefix", "lora", "in-flight"}, st.Scorers); diff != "" {
		t.Errorf("scorers (-want +got):\n%s", diff)
	}
	if len(st.Decisions) != 1 || st.Decisions[0].Scorers[0].Contribution != 1 {
		t.Errorf("decisions = %+v", st.Decisions)
	}
	if st.StalenessSeconds != 1 || !st.Time.Equal(testNow) || st.Series.Points == nil {
		t.Errorf("state header = %v %v %v", st.StalenessSeconds, st.Time, st.Series.Points)
	}
}
