package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestForwardedHeaders checks what the replica sees of the client's headers
// and what the client sees of the replica's, over real loopback HTTP:
// hop-by-hop headers (and those Connection names) are dropped both ways,
// X-Forwarded-* describe this hop only, and end-to-end headers pass.
func TestForwardedHeaders(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Upstream-End", "kept")
		okJSON(w, r, b)
	})
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/completions?a=1", strings.NewReader(`{"model":"base","prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic eA==")
	req.Header.Set("X-Forwarded-For", "10.9.9.9")
	req.Header.Set("X-Forwarded-Host", "spoofed.example")
	req.Header.Set("Forwarded", "for=10.9.9.9")
	req.Header.Set("X-Client-End", "kept")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}

	be.mu.Lock()
	up := be.hdr
	be.mu.Unlock()
	want := map[string]string{
		"X-Client-Hop":        "",
		"Proxy-Authorization": "",
		"Forwarded":           "",
		"X-Forwarded-For":     "127.0.0.1",
		"X-Forwarded-Host":    strings.TrimPrefix(srv.URL, "http://"),
		"X-Forwarded-Proto":   "http",
		"X-Client-End":        "kept",
		"User-Agent":          "Go-http-client/1.1",
	}
	for k, v := range want {
		if got := up.Get(k); got != v {
			t.Errorf("upstream %s = %q, want %q", k, got, v)
		}
	}
	for k, v := range map[string]string{"X-Upstream-Hop": "", "Keep-Alive": "", "X-Upstream-End": "kept"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("client %s = %q, want %q", k, got, v)
		}
	}
}
