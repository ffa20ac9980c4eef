package extproc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/infergate/infergate/internal/envoystandin"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/pool"
)

// echoBackend is a conformance-suite-like backend on loopback: it answers
// every request with its own address and the body it received.
func echoBackend(t *testing.T) string {
	t.Helper()
	var addr string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("content-type", "text/plain")
		_, _ = io.WriteString(w, addr+"\n"+r.Method+" "+r.URL.Path+"\n"+r.Header.Get(exchange.HeaderEndpointSelection)+"\n"+string(b))
	}))
	t.Cleanup(srv.Close)
	addr = strings.TrimPrefix(srv.URL, "http://")
	return addr
}

// standIn starts the Envoy stand-in in front of the picker at addr.
func standIn(t *testing.T, addr string) *envoystandin.StandIn {
	t.Helper()
	s, err := envoystandin.New(envoystandin.Config{ExtProcAddr: addr, Plaintext: true, MessageTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// confResponse is what a client of the stand-in got.
type confResponse struct {
	status                 int
	served, selected, pool string
	body                   string
	dropped                string
}

// send sends one request through the stand-in.
func sendThrough(t *testing.T, s *envoystandin.StandIn, method, path, body string, hdr map[string]string) confResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return confResponse{
		status:   resp.StatusCode,
		served:   resp.Header.Get(exchange.HeaderConformanceServed),
		selected: resp.Header.Get(exchange.HeaderConformanceSelected),
		pool:     resp.Header.Get(exchange.HeaderConformancePool),
		body:     string(b),
		dropped:  resp.Header.Get(exchange.HeaderDroppedReason),
	}
}

// TestConformanceModeHonoursSelection: in conformance mode every request
// (any path, any method, any body) goes round-robin within the endpoints
// test-epp-endpoint-selection names (IPs or ip:port), the body reaches the
// backend unchanged and the response reports the selected and served
// endpoints and the pool; a selection naming no endpoint is a 503. The
// selection is honoured even when control headers are not trusted.
func TestConformanceModeHonoursSelection(t *testing.T) {
	addrs := []string{echoBackend(t), echoBackend(t), echoBackend(t)}
	for _, untrusted := range []bool{false, true} {
		p := startPicker(t, Options{Conformance: true, PoolLabel: "ns/primary", DropControlHeaders: untrusted},
			poolDef{name: "primary", addrs: addrs, models: []string{"base"}})
		s := standIn(t, p.addr)
		body := `{"model":"conformance-fake-model","prompt":"Write as if you were a critic: San Francisco"}`

		// One designated endpoint.
		for range 4 {
			r := sendThrough(t, s, http.MethodPost, "/primary-gateway-test", body, map[string]string{exchange.HeaderEndpointSelection: addrs[2]})
			if r.status != 200 || r.served != addrs[2] || r.selected != addrs[2] || r.pool != "ns/primary" {
				t.Fatalf("untrusted=%v: single selection: %+v", untrusted, r)
			}
			if !strings.HasPrefix(r.body, addrs[2]+"\nPOST /primary-gateway-test\n") || !strings.HasSuffix(r.body, "\n"+body) {
				t.Fatalf("backend saw %q", r.body)
			}
		}
		// Two designated endpoints: both used, nothing else.
		seen := map[string]int{}
		for range 6 {
			r := sendThrough(t, s, http.MethodPost, "/x", body, map[string]string{exchange.HeaderEndpointSelection: addrs[0] + " , " + addrs[1]})
			if r.status != 200 || r.served != r.selected {
				t.Fatalf("two selected: %+v", r)
			}
			seen[r.served]++
		}
		if len(seen) != 2 || seen[addrs[0]] == 0 || seen[addrs[1]] == 0 {
			t.Fatalf("two selected: served %v", seen)
		}
		// An IP alone selects every port of it: all three (same loopback IP).
		seen = map[string]int{}
		for range 6 {
			r := sendThrough(t, s, http.MethodGet, "/test-primary-gateway", "", map[string]string{exchange.HeaderEndpointSelection: "127.0.0.1"})
			if r.status != 200 {
				t.Fatalf("ip selection: %+v", r)
			}
			seen[r.served]++
		}
		if len(seen) != 3 {
			t.Fatalf("ip selection served %v, want all three", seen)
		}
		// No selection: round-robin over the pool.
		seen = map[string]int{}
		for range 3 {
			seen[sendThrough(t, s, http.MethodPost, "/v1/completions", body, nil).served]++
		}
		if len(seen) != 3 {
			t.Fatalf("no selection served %v, want round-robin over three", seen)
		}
		// A selection naming no endpoint: 503, nothing forwarded.
		r := sendThrough(t, s, http.MethodPost, "/x", body, map[string]string{exchange.HeaderEndpointSelection: "10.9.9.9"})
		if r.status != 503 || r.dropped != exchange.DroppedNoEndpoints {
			t.Fatalf("unknown selection: %+v", r)
		}
	}
}

// TestConformanceServedFailValues: without the data plane's served-endpoint
// metadata the report carries lwepp's failure values, never the selection
// (which would hide a gateway that does not report where it sent the
// request).
func TestConformanceServedFailValues(t *testing.T) {
	p := startPicker(t, Options{Conformance: true, Pool: "primary"}, poolDef{name: "primary", addrs: []string{epA}, models: []string{"base"}})
	for _, tc := range []struct {
		served string
		want   string
	}{{"", conformanceNoLBMetadata}, {epA, epA}} {
		s := openStream(t, dialPicker(t, p.addr), testTimeout)
		d, err := s.request(httpReq{path: "/anything", body: []byte("not json")})
		if err != nil || d.set[HeaderDestination] != epA || string(d.body) != "not json" {
			t.Fatalf("request: %v %+v", err, d)
		}
		if err := s.send(&extprocv3.ProcessingRequest{
			Request:         &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: headerMap([][2]string{{":status", "200"}}), EndOfStream: true}},
			MetadataContext: servedMetadata(tc.served),
		}); err != nil {
			t.Fatal(err)
		}
		m, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, h := range m.GetResponseHeaders().GetResponse().GetHeaderMutation().GetSetHeaders() {
			got[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
		}
		if got[exchange.HeaderConformanceServed] != tc.want || got[exchange.HeaderConformanceSelected] != epA || got[exchange.HeaderConformancePool] != "primary" {
			t.Fatalf("served metadata %q: report %v", tc.served, got)
		}
		s.finish()
	}
}

// TestConformanceHeadersIgnoredOutsideMode: outside conformance mode the
// selection header steers nothing and no report header is added; untrusted,
// the selection and report headers are removed like every control header.
func TestConformanceHeadersIgnoredOutsideMode(t *testing.T) {
	a, b := startSim(t, "a"), startSim(t, "b")
	for _, untrusted := range []bool{false, true} {
		p := startPicker(t, Options{DropControlHeaders: untrusted}, poolDef{name: "test", addrs: []string{a, b}, models: []string{simModel}})
		// b is busy: the scheduler picks a, whatever the selection says.
		for _, ep := range p.endpoints("test") {
			if ep.Address() == b {
				ep.SetMetrics(&pool.Metrics{WaitingQueue: 500, ScrapedAt: time.Now().Add(time.Hour)})
			}
		}
		var mu sync.Mutex
		var served []string
		s, err := envoystandin.New(envoystandin.Config{ExtProcAddr: p.addr, Plaintext: true, MessageTimeout: 5 * time.Second,
			OnResult: func(r envoystandin.Result) {
				mu.Lock()
				served = append(served, r.Served)
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		hdr := map[string]string{exchange.HeaderEndpointSelection: b, exchange.HeaderConformanceServed: "spoofed"}
		for range 3 {
			r := sendThrough(t, s, http.MethodPost, "/v1/completions", `{"model":"`+simModel+`","prompt":"hi","max_tokens":2}`, hdr)
			if r.status != 200 || r.served != "" || r.selected != "" || r.pool != "" {
				t.Fatalf("untrusted=%v: %+v", untrusted, r)
			}
		}
		eventually(t, "three results", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(served) == 3
		})
		mu.Lock()
		for _, sv := range served {
			if sv != a {
				t.Errorf("untrusted=%v: served by %s, want %s (the selection must not steer)", untrusted, sv, a)
			}
		}
		mu.Unlock()

		es := openStream(t, dialPicker(t, p.addr), testTimeout)
		d, err := es.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"` + simModel + `","prompt":"x"}`),
			headers: [][2]string{{exchange.HeaderEndpointSelection, b}, {exchange.HeaderConformanceSelected, b}}})
		if err != nil || d.immediate != nil {
			t.Fatalf("%v %v", err, d.immediate)
		}
		// The x-conformance-test-* report headers are response headers the
		// picker sets in conformance mode; a request copy reports nothing,
		// so only the selection header is a control header.
		for _, h := range []string{exchange.HeaderEndpointSelection} {
			if slices.Contains(d.remove, h) != untrusted {
				t.Errorf("untrusted=%v: %s removed=%v (removed %v)", untrusted, h, !untrusted, d.remove)
			}
		}
		es.cancel()
	}
}
