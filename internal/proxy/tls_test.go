package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/infergate/infergate/internal/testca"
)

// TestUpstreamTLS proxies to a model server that only speaks HTTPS: with
// the server's CA the request goes through (over TLS: the backend sees it),
// with another CA the client gets 502.
func TestUpstreamTLS(t *testing.T) {
	t.Parallel()
	ca := testca.New(t, "upstream-ca")
	var sawTLS atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawTLS.Store(r.TLS != nil)
		_, _ = io.Copy(io.Discard, r.Body)
		okJSON(w, r, nil)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "model-server").TLSCertificate(t)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	const body = `{"model":"base","prompt":"hi"}`

	tests := []struct {
		name       string
		roots      *x509.CertPool
		wantStatus int
	}{
		{"trusted CA", ca.Pool(), http.StatusOK},
		{"other CA", testca.New(t, "other-ca").Pool(), http.StatusBadGateway},
	}
	for _, tc := range tests {
		h := setup(t, Options{TLS: &tls.Config{RootCAs: tc.roots, MinVersion: tls.VersionTLS12}, MaxRetries: 0}, []string{addr}, []int{0})
		rec := do(t, h, "/v1/completions", body, nil)
		if rec.Code != tc.wantStatus {
			t.Errorf("%s: status %d, want %d; body %s", tc.name, rec.Code, tc.wantStatus, rec.Body)
		}
		if tc.wantStatus == http.StatusOK && !sawTLS.Load() {
			t.Errorf("%s: the backend did not receive the request over TLS", tc.name)
		}
		if tc.wantStatus != http.StatusOK {
			errorCode(t, rec.Body.Bytes()) // An OpenAI-shaped error.
		}
		if ht, ok := h.upstream.(*http.Transport); ok {
			ht.CloseIdleConnections()
		}
	}
}
