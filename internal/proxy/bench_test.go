package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkProxy measures the gateway's own cost per request on the native
// proxy path: a real HTTP client and a real upstream over loopback, the
// request parsed, routed, rewritten, forwarded and its answer observed. The
// upstream answers at once, so the time is HTTP plus the gateway's work;
// compare allocs/op and B/op between changes rather than ns/op on a shared
// machine. Run: go test -run '^$' -bench Proxy -benchmem ./internal/proxy
func BenchmarkProxy(b *testing.B) {
	cases := []struct {
		name string
		body string
		h    func(w http.ResponseWriter, r *http.Request, body []byte)
	}{
		{name: "json", body: `{"model":"base","messages":[{"role":"user","content":"Say hello to the benchmark, please."}],"max_tokens":8}`, h: okJSON},
		{name: "stream", body: `{"model":"base","stream":true,"messages":[{"role":"user","content":"Say hello to the benchmark, please."}],"max_tokens":8}`, h: sse},
		// A 220 KB prompt, streamed: the body goes upstream with
		// include_usage spliced in.
		{name: "stream-220KB", body: `{"model":"base","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("token ", 220_000/6) + `"}],"max_tokens":8}`, h: sse},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			be := newBackend(b, tc.h)
			h := setup(b, Options{}, []string{be.addr()}, []int{0})
			front := httptest.NewServer(h)
			b.Cleanup(front.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			url := front.URL + "/v1/chat/completions"
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(url, "application/json", strings.NewReader(tc.body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
