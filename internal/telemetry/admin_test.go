package telemetry

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// tokenGuard admits requests carrying "Authorization: Bearer good".
func tokenGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestAdminHandler(t *testing.T) {
	reg := NewRegistry()
	NewMetrics(reg, Options{Commit: "abc"})
	var ready atomic.Bool
	srv := httptest.NewServer(NewAdminHandler(AdminOptions{
		Gatherer: reg,
		Guard:    tokenGuard,
		Ready:    ready.Load,
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		method     string
		path       string
		token      bool
		ready      bool
		wantStatus int
		wantType   string // prefix of Content-Type; "" = not checked
		wantInBody string
	}{
		{name: "metrics without token", path: "/metrics", wantStatus: http.StatusUnauthorized},
		{name: "metrics", path: "/metrics", token: true, wantStatus: http.StatusOK,
			wantType: "text/plain; version=0.0.4", wantInBody: `inference_extension_info{build_ref="unknown",commit="abc"} 1`},
		{name: "metrics has runtime collectors", path: "/metrics", token: true, wantStatus: http.StatusOK,
			wantInBody: "go_goroutines"},
		{name: "metrics post", method: http.MethodPost, path: "/metrics", token: true, wantStatus: http.StatusMethodNotAllowed},
		{name: "pprof index without token", path: "/debug/pprof/", wantStatus: http.StatusUnauthorized},
		{name: "pprof heap without token", path: "/debug/pprof/heap", wantStatus: http.StatusUnauthorized},
		{name: "pprof cmdline without token", path: "/debug/pprof/cmdline", wantStatus: http.StatusUnauthorized},
		{name: "pprof profile without token", path: "/debug/pprof/profile", wantStatus: http.StatusUnauthorized},
		{name: "pprof symbol without token", path: "/debug/pprof/symbol", wantStatus: http.StatusUnauthorized},
		{name: "pprof trace without token", path: "/debug/pprof/trace", wantStatus: http.StatusUnauthorized},
		{name: "pprof index", path: "/debug/pprof/", token: true, wantStatus: http.StatusOK, wantInBody: "goroutine"},
		{name: "pprof goroutine", path: "/debug/pprof/goroutine?debug=1", token: true, wantStatus: http.StatusOK,
			wantInBody: "goroutine profile"},
		{name: "healthz needs no token", path: "/healthz", wantStatus: http.StatusOK, wantInBody: "ok"},
		{name: "readyz not ready", path: "/readyz", wantStatus: http.StatusServiceUnavailable, wantInBody: "not ready"},
		{name: "readyz ready", path: "/readyz", ready: true, wantStatus: http.StatusOK, wantInBody: "ok"},
		{name: "unknown path", path: "/dashboard", token: true, wantStatus: http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ready.Store(tc.ready)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token {
				req.Header.Set("Authorization", "Bearer good")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type = %q, want prefix %q", ct, tc.wantType)
			}
			if !bytes.Contains(body, []byte(tc.wantInBody)) {
				t.Errorf("body does not contain %q:\n%.500s", tc.wantInBody, body)
			}
		})
	}
}

func TestAdminMetricsParse(t *testing.T) {
	reg := NewRegistry()
	recordSequence(NewMetrics(reg, Options{}))
	srv := httptest.NewServer(NewAdminHandler(AdminOptions{Gatherer: reg}))
	defer srv.Close()

	// A Prometheus 2.x scraper's Accept header; the Go client also asks for gzip, as GMP does.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if !resp.Uncompressed {
		t.Error("response was not gzip-compressed")
	}
	// OpenMetrics stays off: classic text keeps upstream's `le` formatting.
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the classic text format", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`le="1"}`)) {
		t.Error(`no le="1" bucket: le formatting changed`)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	if _, ok := families["inference_objective_request_total"]; !ok {
		t.Error("inference_objective_request_total missing from /metrics")
	}
}

// failingCollector reports a collection error on every scrape.
type failingCollector struct{ desc *prometheus.Desc }

func (c failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(c.desc, io.ErrUnexpectedEOF)
}

func TestAdminMetricsContinueOnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg, Options{})
	reg.MustRegister(failingCollector{desc: prometheus.NewDesc("broken", "Broken.", nil, nil)})
	var logs bytes.Buffer
	srv := httptest.NewServer(NewAdminHandler(AdminOptions{
		Gatherer: reg,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	}))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("inference_extension_info")) {
		t.Errorf("status %d; want 200 with the healthy families served", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "unexpected EOF") {
		t.Errorf("collection error not logged; logs: %q", logs.String())
	}
}
