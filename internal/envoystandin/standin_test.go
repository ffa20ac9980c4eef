package envoystandin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/testca"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// post sends a POST with body to the stand-in and returns status, headers
// and body.
func post(t *testing.T, s *StandIn, path string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// do runs req with a fresh client and reads the whole answer.
func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestHeaderMutationAndOriginalDstForwarding(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{
		dest:         toUpstream(up),
		metadataDest: "=",
		reqMutation: func(m *extprocv3.HeaderMutation) {
			m.SetHeaders = append(m.SetHeaders,
				setHeader("x-picked", "yes"),
				appendHeader("x-multi", "two"),
				setHeader(":authority", "evil.example"),  // routing header: ignored by Envoy's rules
				setHeader("x-envoy-internal-thing", "1"), // x-envoy-*: ignored
				setHeader("content-length", "1"),         // streamed body: ignored
			)
			m.RemoveHeaders = []string{"x-remove-me", ":path"} // a pseudo-header cannot be removed
		},
		respMutation: func(m *extprocv3.HeaderMutation) {
			m.SetHeaders = append(m.SetHeaders, setHeader("x-went-into-resp-headers", "true"))
		},
	}), nil)
	s, results := newStandIn(t, addr, nil)

	body := []byte(`{"model":"m","prompt":"hello"}`)
	code, hdr, got := post(t, s, "/v1/completions?x=1", body, map[string]string{"X-Remove-Me": "1", "X-Multi": "one"})
	if code != http.StatusOK || string(got) != `{"ok":true}` {
		t.Fatalf("client got %d %q", code, got)
	}
	if hdr.Get("X-Went-Into-Resp-Headers") != "true" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("client headers = %v", hdr)
	}
	if hdr.Get("Content-Length") != "" {
		t.Errorf("content-length %q kept; Envoy removes it in FULL_DUPLEX_STREAMED mode", hdr.Get("Content-Length"))
	}

	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests", len(reqs))
	}
	r := reqs[0]
	if !bytes.Equal(r.body, body) || r.uri != "/v1/completions?x=1" || r.method != http.MethodPost {
		t.Errorf("upstream got %s %s %q", r.method, r.uri, r.body)
	}
	if r.host != s.Addr() {
		t.Errorf("upstream Host = %q, want the client's %q (routing headers are not mutable)", r.host, s.Addr())
	}
	if r.contentLength != -1 || len(r.transferEncoding) != 1 || r.transferEncoding[0] != "chunked" {
		t.Errorf("upstream body framing: content-length %d, transfer-encoding %v; want chunked", r.contentLength, r.transferEncoding)
	}
	if r.header.Get("X-Picked") != "yes" || r.header.Get("X-Remove-Me") != "" || r.header.Get("X-Envoy-Internal-Thing") != "" {
		t.Errorf("upstream headers = %v", r.header)
	}
	if got := r.header.Values("X-Multi"); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("appended header = %v", got)
	}
	if r.header.Get(DestinationHeader) != up.addr() || r.header.Get("X-Request-Id") == "" || r.header.Get("X-Forwarded-Proto") != "http" {
		t.Errorf("upstream headers = %v", r.header)
	}

	res := nextResult(t, results)
	if res.Status != 200 || res.Served != up.addr() || res.Destination != up.addr() || res.Details != DetailsViaUpstream {
		t.Errorf("result = %+v", res)
	}
	if !res.ClearRouteCache || res.IgnoredMutations != 3 || res.RequestChunks != 1 || res.ResponseChunks != 1 {
		t.Errorf("result = %+v", res)
	}
	if res.Duration < res.DecisionLatency || res.Duration <= 0 {
		t.Errorf("duration %v, decision %v", res.Duration, res.DecisionLatency)
	}
	if st := s.Stats(); st.Requests != 1 || st.Forwarded != 1 || st.Decisions != 1 || st.ResponseChunks != 1 {
		t.Errorf("stats = %+v", st)
	}
	if d, ok := metadataDestination(res.DynamicMetadata); !ok || d != up.addr() {
		t.Errorf("dynamic metadata = %v", res.DynamicMetadata)
	}

	rec := picker.nextStream(t)
	first := rec.msgs[0]
	hm := headerValues(first.GetRequestHeaders().GetHeaders())
	for k, want := range map[string]string{":method": "POST", ":path": "/v1/completions?x=1", ":authority": s.Addr(), ":scheme": "http",
		"content-type": "application/json", "x-remove-me": "1", "content-length": strconv.Itoa(len(body)), "x-forwarded-proto": "http"} {
		if hm[k] != want {
			t.Errorf("picker saw %s = %q, want %q", k, hm[k], want)
		}
	}
	for _, h := range first.GetRequestHeaders().GetHeaders().GetHeaders() {
		if h.GetKey() != strings.ToLower(h.GetKey()) || h.GetValue() != "" {
			t.Errorf("header %q: keys must be lower-case, values in raw_value (value %q)", h.GetKey(), h.GetValue())
		}
	}
	if first.GetRequestHeaders().GetEndOfStream() {
		t.Error("headers of a request with a body carried end_of_stream")
	}
	pc := first.GetProtocolConfig()
	if pc.GetRequestBodyMode() != extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED || pc.GetResponseBodyMode() != extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		t.Errorf("protocol_config = %v", pc)
	}
	// headers, one body chunk (eos), response headers, one response chunk (eos).
	if len(rec.msgs) != 4 || !rec.msgs[1].GetRequestBody().GetEndOfStream() || !rec.msgs[3].GetResponseBody().GetEndOfStream() {
		t.Errorf("picker saw %d messages: %v", len(rec.msgs), rec.msgs)
	}
	if !errors.Is(rec.end, io.EOF) && status.Code(rec.end) != codes.Canceled {
		t.Errorf("stream ended with %v, want the stand-in's close", rec.end)
	}
}

func TestServedEndpointMetadataOnResponsePath(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "1")
		_, _ = io.WriteString(w, "abc")
	})
	usage := &structpb.Struct{Fields: map[string]*structpb.Value{
		LBNamespace: structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"x-gateway-inference-request-cost": structpb.NewNumberValue(7),
		}}),
	}}
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up), metadataDest: "=", usage: usage}), nil)
	s, results := newStandIn(t, addr, nil)
	post(t, s, "/v1/completions", []byte(`{}`), nil)
	res := nextResult(t, results)
	lb := res.DynamicMetadata[LBNamespace].GetFields()
	if lb["x-gateway-inference-request-cost"].GetNumberValue() != 7 || lb[DestinationHeader].GetStringValue() != up.addr() {
		t.Errorf("dynamic metadata over the exchange = %v", res.DynamicMetadata)
	}

	rec := picker.nextStream(t)
	var sawHeaders, sawBody bool
	for _, m := range rec.msgs {
		switch {
		case m.GetResponseHeaders() != nil:
			sawHeaders = true
			hm := headerValues(m.GetResponseHeaders().GetHeaders())
			if hm[":status"] != "200" || hm["x-upstream"] != "1" || hm["x-envoy-upstream-service-time"] == "" {
				t.Errorf("response headers = %v", hm)
			}
		case m.GetResponseBody() != nil:
			sawBody = true
		default:
			if m.GetMetadataContext().GetFilterMetadata()[LBNamespace] != nil {
				t.Errorf("request-path message carries %s metadata: %v", LBNamespace, m)
			}
			continue
		}
		served := m.GetMetadataContext().GetFilterMetadata()[LBNamespace].GetFields()[ServedKey].GetStringValue()
		if served != up.addr() {
			t.Errorf("served metadata = %q, want %q", served, up.addr())
		}
	}
	if !sawHeaders || !sawBody {
		t.Errorf("response path messages missing: %v", rec.msgs)
	}
}

func TestBodylessRequest(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, nil)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1/models", nil)
	if code, _, _ := do(t, req); code != 200 {
		t.Fatalf("status %d", code)
	}
	rec := picker.nextStream(t)
	if !rec.msgs[0].GetRequestHeaders().GetEndOfStream() || rec.msgs[1].GetResponseHeaders() == nil {
		t.Errorf("bodiless request messages: %v", rec.msgs)
	}
	if r := up.requests(); len(r) != 1 || r[0].method != "GET" || len(r[0].body) != 0 || r[0].contentLength != 0 {
		t.Errorf("upstream got %+v", r)
	}
	if res := nextResult(t, results); res.RequestChunks != 0 || res.Served != up.addr() {
		t.Errorf("result = %+v", res)
	}
}

func TestImmediateResponse(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{immediate: immediateResponse(429,
		`{"error":{"message":"too many","type":"rate_limit","param":null,"code":"x"}}`,
		setHeader("content-type", "application/json"),
		setHeader("x-llm-d-request-dropped-reason", "rejected-saturated"),
		setHeader("retry-after", "1"),
	)}), nil)
	s, results := newStandIn(t, addr, nil)
	code, hdr, body := post(t, s, "/v1/completions", []byte(`{"model":"m"}`), nil)
	if code != 429 || !strings.Contains(string(body), "too many") {
		t.Fatalf("client got %d %q", code, body)
	}
	if hdr.Get("Content-Type") != "application/json" || hdr.Get("X-Llm-D-Request-Dropped-Reason") != "rejected-saturated" || hdr.Get("Retry-After") != "1" {
		t.Errorf("headers = %v", hdr)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests after an immediate response", n)
	}
	res := nextResult(t, results)
	if !res.ImmediateResponse || res.Status != 429 || res.Details != "picker_said_no" || res.Served != "" {
		t.Errorf("result = %+v", res)
	}
	if rec := picker.nextStream(t); rec.end == nil {
		t.Error("stream not closed after the immediate response")
	}
}

func TestLargeBodyChunkedBothWays(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, nil)
	body := make([]byte, 1<<20+12345)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	if code, _, _ := post(t, s, "/v1/completions", body, nil); code != 200 {
		t.Fatalf("status %d", code)
	}
	reqs := up.requests()
	if len(reqs) != 1 || sha256.Sum256(reqs[0].body) != sha256.Sum256(body) {
		t.Fatalf("upstream body differs (%d bytes, want %d)", len(reqs[0].body), len(body))
	}
	rec := picker.nextStream(t)
	var chunks []*extprocv3.HttpBody
	for _, m := range rec.msgs {
		if b := m.GetRequestBody(); b != nil {
			chunks = append(chunks, b)
		}
	}
	wantChunks := (len(body) + DefaultChunkSize - 1) / DefaultChunkSize
	if len(chunks) != wantChunks {
		t.Fatalf("%d request chunks, want %d", len(chunks), wantChunks)
	}
	for i, c := range chunks {
		last := i == len(chunks)-1
		if c.GetEndOfStream() != last || (!last && len(c.GetBody()) != DefaultChunkSize) {
			t.Errorf("chunk %d: %d bytes, end_of_stream %v", i, len(c.GetBody()), c.GetEndOfStream())
		}
	}
	if res := nextResult(t, results); res.RequestChunks != wantChunks {
		t.Errorf("result chunks = %d", res.RequestChunks)
	}
}

func TestRequestEndingWithTrailers(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{
		dest:            toUpstream(up),
		trailerMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader("x-checksum", "picked")}},
	}), nil)
	s, results := newStandIn(t, addr, nil)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/completions", pr)
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Checksum": nil}
	go func() {
		_, _ = io.WriteString(pw, `{"model":"m",`)
		_, _ = io.WriteString(pw, `"prompt":"p"}`)
		req.Trailer.Set("X-Checksum", "client")
		_ = pw.Close()
	}()
	if code, _, _ := do(t, req); code != 200 {
		t.Fatalf("status %d", code)
	}
	reqs := up.requests()
	if len(reqs) != 1 || string(reqs[0].body) != `{"model":"m","prompt":"p"}` {
		t.Fatalf("upstream got %+v", reqs)
	}
	if got := reqs[0].trailer.Get("X-Checksum"); got != "picked" {
		t.Errorf("upstream trailer = %q, want the picker's mutation", got)
	}
	rec := picker.nextStream(t)
	var sawTrailers bool
	for _, m := range rec.msgs {
		if b := m.GetRequestBody(); b != nil && b.GetEndOfStream() {
			t.Error("a body chunk carried end_of_stream although the request ends with trailers")
		}
		if tr := m.GetRequestTrailers(); tr != nil {
			sawTrailers = headerValues(tr.GetTrailers())["x-checksum"] == "client"
		}
	}
	if !sawTrailers {
		t.Errorf("picker did not get the trailers: %v", rec.msgs)
	}
	if res := nextResult(t, results); !res.RequestTrailers {
		t.Errorf("result = %+v", res)
	}
}

func TestMessageTimeout(t *testing.T) {
	up := startUpstream(t, nil)
	stalled := make(chan struct{})
	picker, addr := startPicker(t, func(p *pickerStream) error {
		// Read the request, never answer, wait for the stand-in to give up.
		for {
			if _, err := p.recv(); err != nil {
				close(stalled)
				return err
			}
		}
	}, nil)
	s, results := newStandIn(t, addr, func(c *Config) { c.MessageTimeout = 50 * time.Millisecond })
	start := time.Now()
	code, hdr, body := post(t, s, "/v1/completions", []byte(`{}`), nil)
	if code != http.StatusGatewayTimeout || len(body) != 0 || hdr.Get("Content-Length") != "0" {
		t.Fatalf("client got %d %v %q, want Envoy's empty 504", code, hdr, body)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("answered before the timeout")
	}
	<-stalled
	picker.nextStream(t)
	if res := nextResult(t, results); res.Details != DetailsMessageTimeout {
		t.Errorf("result = %+v", res)
	}
	if len(up.requests()) != 0 {
		t.Error("upstream reached")
	}
	if s.Stats().MessageTimeouts != 1 {
		t.Errorf("stats = %+v", s.Stats())
	}
}

func TestMessageTimeoutOnResponsePath(t *testing.T) {
	up := startUpstream(t, nil)
	_, addr := startPicker(t, func(p *pickerStream) error {
		m, err := p.recv()
		if err != nil {
			return err
		}
		_ = m
		if _, err := p.recv(); err != nil { // body
			return err
		}
		if err := p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{
			Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader(DestinationHeader, up.addr())}}},
		}}}); err != nil {
			return err
		}
		return p.srv.Send(streamedBody(true, []byte(`{}`), true))
		// The response headers are never answered.
	}, nil)
	s, results := newStandIn(t, addr, func(c *Config) { c.MessageTimeout = 50 * time.Millisecond })
	if code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), nil); code != http.StatusGatewayTimeout {
		t.Fatalf("status %d", code)
	}
	if res := nextResult(t, results); res.Details != DetailsMessageTimeout || res.Served != up.addr() {
		t.Errorf("result = %+v", res)
	}
}

func TestInvalidDestinationIsNoHealthyUpstream(t *testing.T) {
	up := startUpstream(t, nil)
	for _, dest := range []string{"", "not-an-ip:80", "127.0.0.1", "127.0.0.1:70000", up.addr() + "," + up.addr(), "[::1]", "::1:80", "127.000.0.1:80"} {
		t.Run(dest, func(t *testing.T) {
			picker, addr := startPicker(t, echoPicker(echoOpts{dest: func(map[string]string) string { return dest }}), nil)
			s, results := newStandIn(t, addr, nil)
			code, hdr, body := post(t, s, "/v1/completions", []byte(`{}`), nil)
			if code != http.StatusServiceUnavailable || string(body) != "no healthy upstream" || hdr.Get("Content-Type") != "text/plain" {
				t.Fatalf("client got %d %v %q", code, hdr, body)
			}
			res := nextResult(t, results)
			if res.Details != DetailsNoHealthy || res.Served != "" {
				t.Errorf("result = %+v", res)
			}
			// The router's local reply goes through the picker's response path.
			rec := picker.nextStream(t)
			var st string
			for _, m := range rec.msgs {
				if rh := m.GetResponseHeaders(); rh != nil {
					st = headerValues(rh.GetHeaders())[":status"]
				}
			}
			if st != "503" {
				t.Errorf("picker saw response status %q", st)
			}
		})
	}
	if len(up.requests()) != 0 {
		t.Error("upstream reached")
	}
}

func TestDestinationMetadataMismatch(t *testing.T) {
	up := startUpstream(t, nil)
	_, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up), metadataDest: "10.9.9.9:8000"}), nil)
	s, results := newStandIn(t, addr, nil)
	if code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), nil); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", code)
	}
	if res := nextResult(t, results); res.Details != DetailsMetadataMismatch {
		t.Errorf("result = %+v", res)
	}
	if len(up.requests()) != 0 {
		t.Error("upstream reached")
	}
}

func TestSubsetHintMetadata(t *testing.T) {
	subset := func(m *extprocv3.ProcessingRequest) ([]string, bool) {
		s, ok := m.GetMetadataContext().GetFilterMetadata()[SubsetHintNamespace]
		if !ok {
			return nil, false
		}
		var out []string
		for _, v := range s.GetFields()[SubsetHintKey].GetListValue().GetValues() {
			out = append(out, v.GetStringValue())
		}
		return out, true
	}
	t.Run("header", func(t *testing.T) {
		up := startUpstream(t, nil)
		picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
		s, _ := newStandIn(t, addr, nil)
		post(t, s, "/v1/completions", []byte(`{}`), map[string]string{SubsetHeader: "10.0.0.1:8000, 10.0.0.2:8000"})
		rec := picker.nextStream(t)
		for _, m := range rec.msgs {
			got, ok := subset(m)
			reqPath := m.GetRequestHeaders() != nil || m.GetRequestBody() != nil
			if reqPath && (!ok || strings.Join(got, " ") != "10.0.0.1:8000 10.0.0.2:8000") {
				t.Errorf("request message without the subset hint: %v", m)
			}
		}
		if _, ok := headerValues(rec.msgs[0].GetRequestHeaders().GetHeaders())[SubsetHeader]; ok {
			t.Error("the stand-in's control header reached the picker")
		}
		if up.requests()[0].header.Get(SubsetHeader) != "" {
			t.Error("the stand-in's control header reached upstream")
		}
	})
	t.Run("empty header is an empty hint", func(t *testing.T) {
		_, addr := startPicker(t, func(p *pickerStream) error {
			m, err := p.recv()
			if err != nil {
				return err
			}
			if got, ok := subset(m); !ok || len(got) != 0 {
				return p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: immediateResponse(500, "no empty hint")}})
			}
			return p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: immediateResponse(503, "rejected-no-endpoints")}})
		}, nil)
		s, _ := newStandIn(t, addr, nil)
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1/models", nil)
		req.Header[http.CanonicalHeaderKey(SubsetHeader)] = []string{""}
		if code, _, body := do(t, req); code != 503 {
			t.Errorf("got %d %q", code, body)
		}
	})
	t.Run("too many entries", func(t *testing.T) {
		_, addr := startPicker(t, echoPicker(echoOpts{}), nil)
		s, results := newStandIn(t, addr, nil)
		hint := strings.Repeat("10.0.0.1:80,", maxSubsetEntries+1)
		if code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), map[string]string{SubsetHeader: hint}); code != 400 {
			t.Errorf("status %d", code)
		}
		if res := nextResult(t, results); res.Details != DetailsBadSubsetHint {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("hook", func(t *testing.T) {
		up := startUpstream(t, nil)
		picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
		s, _ := newStandIn(t, addr, func(c *Config) {
			c.SubsetHint = func(r *http.Request) ([]string, bool) { return []string{up.addr()}, r.URL.Path == "/hinted" }
		})
		post(t, s, "/hinted", []byte(`{}`), nil)
		if got, ok := subset(picker.nextStream(t).msgs[0]); !ok || len(got) != 1 || got[0] != up.addr() {
			t.Errorf("hint = %v %v", got, ok)
		}
		post(t, s, "/plain", []byte(`{}`), nil)
		if _, ok := subset(picker.nextStream(t).msgs[0]); ok {
			t.Error("hint sent when the hook said none")
		}
	})
}

func TestSSEStreamedChunkByChunk(t *testing.T) {
	const events = 4
	next := make(chan struct{})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range events {
			if i > 0 {
				select {
				case <-next:
				case <-r.Context().Done():
					return
				}
			}
			_, _ = io.WriteString(w, "data: {\"i\":"+string(rune('0'+i))+"}\n\n")
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, nil)
	resp, err := http.Post(s.URL()+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	for i := range events {
		// The upstream sends event i+1 only after the client has event i:
		// this fails unless every chunk is streamed through the picker.
		line, err := br.ReadString('\n')
		if err != nil || line != "data: {\"i\":"+string(rune('0'+i))+"}\n" {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if i < events-1 {
			next <- struct{}{}
		}
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "data: [DONE]\n\n" {
		t.Errorf("tail %q", rest)
	}
	res := nextResult(t, results)
	if res.ResponseChunks < events || res.ResponseChunkDelay <= 0 || res.ResponseChunkDelayMax > res.ResponseChunkDelay {
		t.Errorf("response chunks = %d (delay %v, max %v), want ≥ %d measured", res.ResponseChunks, res.ResponseChunkDelay, res.ResponseChunkDelayMax, events)
	}
	rec := picker.nextStream(t)
	last := rec.msgs[len(rec.msgs)-1].GetResponseBody()
	if !last.GetEndOfStream() {
		t.Errorf("last message %v, want a response body end_of_stream", rec.msgs[len(rec.msgs)-1])
	}
}

func TestClientCancellationClosesStreamAndUpstream(t *testing.T) {
	upstreamGone := make(chan struct{})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(upstreamGone)
	})
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/v1/chat/completions", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q %v", line, err)
	}
	cancel()
	_ = resp.Body.Close()
	select {
	case <-upstreamGone:
	case <-time.After(10 * time.Second):
		t.Fatal("upstream request not cancelled")
	}
	rec := picker.nextStream(t)
	if rec.end == nil {
		t.Error("picker stream still open")
	}
	if res := nextResult(t, results); res.Details != DetailsDownstreamReset || res.Status != 200 {
		t.Errorf("result = %+v", res)
	}
}

func TestPickerErrors(t *testing.T) {
	up := startUpstream(t, nil)
	cases := []struct {
		name    string
		script  pickerScript
		status  int
		details string
	}{{
		name: "gRPC error",
		script: func(p *pickerStream) error {
			if _, err := p.recv(); err != nil {
				return err
			}
			return scriptError{status.Error(codes.Unavailable, "down")}
		},
		status: 500, details: "ext_proc_error_gRPC_error_14",
	}, {
		name: "body answer before the header answer",
		script: func(p *pickerStream) error {
			if _, err := p.recv(); err != nil {
				return err
			}
			return p.srv.Send(streamedBody(true, []byte("x"), true))
		},
		status: 500, details: DetailsSpurious,
	}, {
		name: "invalid header value",
		script: echoPicker(echoOpts{dest: toUpstream(up), reqMutation: func(m *extprocv3.HeaderMutation) {
			m.SetHeaders = append(m.SetHeaders, setHeader("x-bad", "a\nb"))
		}}),
		status: 500, details: "Invalid_character_in_set_headers_mutation.",
	}, {
		name: "clean close while the header answer is awaited",
		script: func(p *pickerStream) error {
			for {
				m, err := p.recv()
				if err != nil {
					return err
				}
				if m.GetRequestBody().GetEndOfStream() {
					return scriptError{}
				}
			}
		},
		status: 500, details: DetailsClosedEarly,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, addr := startPicker(t, c.script, nil)
			s, results := newStandIn(t, addr, nil)
			if code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), nil); code != c.status {
				t.Errorf("status %d, want %d", code, c.status)
			}
			if res := nextResult(t, results); res.Details != c.details {
				t.Errorf("details %q, want %q", res.Details, c.details)
			}
		})
	}
}

func TestPickerOverTLS(t *testing.T) {
	ca := testca.New(t, "picker-ca")
	cert := ca.Server(t, "picker").TLSCertificate(t)
	up := startUpstream(t, nil)
	_, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), &cert)
	caFile := ca.WriteCA(t, t.TempDir(), "ca")
	for name, edit := range map[string]func(*Config){
		"CA file":              func(c *Config) { c.Plaintext, c.CAFile = false, caFile },
		"insecure skip verify": func(c *Config) { c.Plaintext, c.InsecureSkipVerify = false, true },
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := newStandIn(t, addr, edit)
			if code, _, body := post(t, s, "/v1/completions", []byte(`{}`), nil); code != 200 {
				t.Errorf("status %d %q", code, body)
			}
		})
	}
	t.Run("untrusted", func(t *testing.T) {
		s, results := newStandIn(t, addr, func(c *Config) { c.Plaintext = false })
		if code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), nil); code != 500 {
			t.Errorf("status %d, want 500 for a picker that cannot be reached", code)
		}
		if res := nextResult(t, results); res.Details != "ext_proc_error_gRPC_error_14" {
			t.Errorf("details %q", res.Details)
		}
	})
}

func TestShutdownWaitsForInFlight(t *testing.T) {
	release, held := make(chan struct{}), make(chan struct{})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	_, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, err := New(Config{ExtProcAddr: addr, Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		resp, err := http.Post(s.URL()+"/x", "application/json", strings.NewReader(`{}`))
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	select {
	case <-held:
	case g := <-got:
		t.Fatalf("request ended early: %s", g)
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("shutdown returned with a request in flight: %v", err)
	default:
	}
	close(release)
	if g := <-got; g != "done" {
		t.Errorf("in-flight request got %q", g)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestMessageTimeoutSparesSlowClientsAndUpstreams(t *testing.T) {
	const timeout = 50 * time.Millisecond
	proceed := make(chan struct{})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-proceed:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: 2\n\n")
	})
	_, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, func(c *Config) { c.MessageTimeout = timeout })

	// The client pauses its upload for three timeouts: the picker is
	// waiting for the body, not late.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `{"model":`)
		<-time.After(3 * timeout)
		_, _ = io.WriteString(pw, `"m"}`)
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/completions", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: 1\n" {
		t.Fatalf("first event %q %v (status %d)", line, err, resp.StatusCode)
	}
	// The upstream pauses between tokens for three timeouts: the picker
	// has answered everything it was sent.
	<-time.After(3 * timeout)
	close(proceed)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: 2\n\n" {
		t.Fatalf("rest %q %v", rest, err)
	}
	if res := nextResult(t, results); res.Details != DetailsViaUpstream || res.Status != 200 {
		t.Errorf("result = %+v", res)
	}
}

// BenchmarkStandIn measures a small request through the stand-in, the fake
// picker and a loopback upstream (all in this process).
func BenchmarkStandIn(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"choices":[{"text":"hi"}]}`)
	}))
	defer up.Close()
	dest := strings.TrimPrefix(up.URL, "http://")
	ln, picker := benchPicker(b, dest)
	defer picker.Stop()
	s, err := New(Config{ExtProcAddr: ln, Plaintext: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := bytes.Repeat([]byte("x"), 1024)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(s.URL()+"/v1/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	st := s.Stats()
	if st.Decisions > 0 {
		b.ReportMetric(float64(st.DecisionLatencyTotal.Microseconds())/float64(st.Decisions), "decision-µs")
	}
}

func TestPickerClosingCleanlyBeforeTheResponse(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
	})
	picker, addr := startPicker(t, func(p *pickerStream) error {
		for {
			m, err := p.recv()
			if err != nil {
				return err
			}
			if m.GetRequestBody().GetEndOfStream() {
				break
			}
		}
		if err := p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{
			Response: &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader(DestinationHeader, up.addr())}}},
		}}}); err != nil {
			return err
		}
		if err := p.srv.Send(streamedBody(true, []byte(`{}`), true)); err != nil {
			return err
		}
		return scriptError{} // the picker owes nothing yet, but the response will need it
	}, nil)
	s, results := newStandIn(t, addr, nil)
	// Whichever comes first, the stream's end or the upstream's answer, the
	// outcome is the same.
	for range 5 {
		code, _, _ := post(t, s, "/v1/completions", []byte(`{}`), nil)
		if code != 500 {
			t.Fatalf("client got %d", code)
		}
		if res := nextResult(t, results); res.Details != DetailsClosedEarly {
			t.Errorf("result = %+v", res)
		}
		picker.nextStream(t)
	}
}

func TestImmediateResponseDuringUpload(t *testing.T) {
	_, addr := startPicker(t, func(p *pickerStream) error {
		if _, err := p.recv(); err != nil {
			return err
		}
		return p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{
			ImmediateResponse: immediateResponse(413, "too large"),
		}})
	}, nil)
	s, results := newStandIn(t, addr, nil)
	// The client declares 1 MiB, sends 64 KiB and waits: the answer must
	// reach it although the stand-in stops reading the upload.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("x"), 64<<10))
	}()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/completions", pr)
	req.ContentLength = 1 << 20
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	_ = pw.CloseWithError(errors.New("test over"))
	if resp.StatusCode != 413 || string(b) != "too large" {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
	if res := nextResult(t, results); !res.ImmediateResponse {
		t.Errorf("result = %+v", res)
	}
}

func TestPickerClosingDuringUpload(t *testing.T) {
	_, addr := startPicker(t, func(p *pickerStream) error {
		if _, err := p.recv(); err != nil {
			return err
		}
		return scriptError{} // closes cleanly before the body is over
	}, nil)
	s, results := newStandIn(t, addr, nil)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = io.WriteString(pw, `{"model":`) }() // and nothing more
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// net/http's client waits for its body writer when cancelled.
	context.AfterFunc(ctx, func() { _ = pw.CloseWithError(ctx.Err()) })
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/v1/completions", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if res := nextResult(t, results); res.Details != DetailsClosedEarly {
		t.Errorf("result = %+v", res)
	}
}

func TestResponseTrailersThroughPicker(t *testing.T) {
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Usage")
		_, _ = io.WriteString(w, "body")
		w.(http.Flusher).Flush()
		w.Header().Set("X-Usage", "42")
	})
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, _ := newStandIn(t, addr, nil)
	resp, err := http.Post(s.URL()+"/v1/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "body" || resp.Trailer.Get("X-Usage") != "42" {
		t.Errorf("client got %q, trailers %v", b, resp.Trailer)
	}
	var sawTrailers bool
	for _, m := range picker.nextStream(t).msgs {
		if rb := m.GetResponseBody(); rb != nil && rb.GetEndOfStream() {
			t.Error("a response body chunk carried end_of_stream although the response ends with trailers")
		}
		if tr := m.GetResponseTrailers(); tr != nil {
			sawTrailers = headerValues(tr.GetTrailers())["x-usage"] == "42"
		}
	}
	if !sawTrailers {
		t.Error("picker did not get the response trailers")
	}
}

func TestUpstreamConnectFailure(t *testing.T) {
	up := startUpstream(t, nil)
	dead := up.addr()
	up.srv.Close() // nothing listens there any more
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: func(map[string]string) string { return dead }}), nil)
	s, results := newStandIn(t, addr, nil)
	code, _, body := post(t, s, "/v1/completions", bytes.Repeat([]byte("x"), 100<<10), nil)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(string(body), "upstream connect error or disconnect/reset before headers") {
		t.Fatalf("client got %d %q", code, body)
	}
	if res := nextResult(t, results); res.Details != DetailsConnectFailure || res.Served != "" {
		t.Errorf("result = %+v", res)
	}
	var st string
	for _, m := range picker.nextStream(t).msgs {
		if rh := m.GetResponseHeaders(); rh != nil {
			st = headerValues(rh.GetHeaders())[":status"]
		}
	}
	if st != "503" {
		t.Errorf("picker saw response status %q, want the local reply's 503", st)
	}
}

func TestEndWithTrailersHook(t *testing.T) {
	up := startUpstream(t, nil)
	picker, addr := startPicker(t, echoPicker(echoOpts{dest: toUpstream(up)}), nil)
	s, results := newStandIn(t, addr, func(c *Config) {
		c.EndWithTrailers = func(*http.Request) bool { return true }
	})
	body := bytes.Repeat([]byte("y"), DefaultChunkSize+10)
	if code, _, _ := post(t, s, "/v1/completions", body, nil); code != 200 {
		t.Fatalf("status %d", code)
	}
	if r := up.requests(); len(r) != 1 || !bytes.Equal(r[0].body, body) {
		t.Fatal("upstream body differs")
	}
	rec := picker.nextStream(t)
	var kinds []string
	for _, m := range rec.msgs {
		switch {
		case m.GetRequestBody() != nil:
			kinds = append(kinds, "body:"+strconv.FormatBool(m.GetRequestBody().GetEndOfStream()))
		case m.GetRequestTrailers() != nil:
			kinds = append(kinds, "trailers:"+strconv.Itoa(len(m.GetRequestTrailers().GetTrailers().GetHeaders())))
		}
	}
	if got := strings.Join(kinds, " "); got != "body:false body:false trailers:0" {
		t.Errorf("request messages %s", got)
	}
	if res := nextResult(t, results); !res.RequestTrailers {
		t.Errorf("result = %+v", res)
	}
}
