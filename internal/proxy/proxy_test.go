package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// backend is a test model server.
type backend struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits int
	last []byte      // last request body
	hdr  http.Header // last request headers
}

func newBackend(t testing.TB, h func(w http.ResponseWriter, r *http.Request, body []byte)) *backend {
	t.Helper()
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.hits++
		b.last, b.hdr = body, r.Header.Clone()
		b.mu.Unlock()
		h(w, r, body)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits
}

// okJSON answers a non-streaming completion with usage.
func okJSON(w http.ResponseWriter, _ *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"x","object":"text_completion","choices":[{"index":0,"text":"hi","finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
}

// setup builds a Handler over endpoints at addrs; queue[i] is endpoint i's
// scraped queue depth (a lower queue is preferred).
func setup(t testing.TB, o Options, addrs []string, queue []int) *Handler {
	t.Helper()
	st := pool.NewStore("test")
	specs := make([]pool.Spec, len(addrs))
	for i, a := range addrs {
		specs[i] = pool.Spec{Name: fmt.Sprintf("ep-%d", i), Address: a}
	}
	snap := st.Sync(specs)
	for i, ep := range snap.Endpoints() {
		ep.SetMetrics(&pool.Metrics{WaitingQueue: queue[i], ScrapedAt: time.Now().Add(time.Hour)})
		ep.SetModels([]string{"base", "lora-a"})
	}
	o.Router = router.New(router.Options{
		Catalog: router.Catalog{
			Pools:      []router.Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}},
			Models:     []router.Model{{Name: "alias", Targets: []router.Target{{Model: "lora-a", Weight: 1}}}},
			Objectives: map[string]int{"batch": -1},
		},
		Admission: admission.New(),
	})
	return New(o)
}

func do(t *testing.T, h http.Handler, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error: %s", body)
	}
	if e.Error.Code == nil {
		return ""
	}
	return *e.Error.Code
}

func TestRetriesBeforeFirstByte(t *testing.T) {
	failing := newBackend(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	good := newBackend(t, okJSON)
	// A closed listener: connection refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name       string
		addrs      []string
		retries    int
		wantStatus int
		wantGood   int
	}{
		{name: "503 then success", addrs: []string{failing.addr(), good.addr()}, retries: 2, wantStatus: 200, wantGood: 1},
		{name: "connection refused then success", addrs: []string{dead, good.addr()}, retries: 2, wantStatus: 200, wantGood: 1},
		{name: "no retries allowed", addrs: []string{failing.addr(), good.addr()}, retries: 0, wantStatus: 503, wantGood: 0},
		{name: "everyone refuses", addrs: []string{dead}, retries: 2, wantStatus: 502, wantGood: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := good.count()
			queue := make([]int, len(tc.addrs))
			for i := range queue {
				queue[i] = i * 2 // the first address is preferred
			}
			h := setup(t, Options{MaxRetries: tc.retries}, tc.addrs, queue)
			rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"hello"}`, nil)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := good.count() - before; got != tc.wantGood {
				t.Errorf("good backend hits = %d, want %d", got, tc.wantGood)
			}
			if tc.wantStatus == 502 {
				errorCode(t, rec.Body.Bytes())
			}
		})
	}
}

func TestRewritesModelAndForwardsHeaders(t *testing.T) {
	be := newBackend(t, okJSON)
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	rec := do(t, h, "/v1/completions", `{"model":"alias","prompt":"hello"}`, map[string]string{
		"Authorization":          "Bearer client-key",
		exchange.HeaderRequestID: "req-123",
	})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var sent map[string]any
	if err := json.Unmarshal(be.last, &sent); err != nil {
		t.Fatal(err)
	}
	if sent["model"] != "lora-a" || sent["prompt"] != "hello" {
		t.Errorf("backend received %v, want model rewritten to lora-a", sent)
	}
	if got := be.hdr.Get("Authorization"); got != "Bearer client-key" {
		t.Errorf("Authorization forwarded as %q", got)
	}
	if be.hdr.Get(exchange.HeaderRequestID) != "req-123" || rec.Header().Get(exchange.HeaderRequestID) != "req-123" {
		t.Errorf("request id not propagated: upstream %q, response %q", be.hdr.Get(exchange.HeaderRequestID), rec.Header().Get(exchange.HeaderRequestID))
	}

	strip := setup(t, Options{StripAuthorization: true}, []string{be.addr()}, []int{0})
	do(t, strip, "/v1/completions", `{"model":"base","prompt":"x"}`, map[string]string{"Authorization": "Bearer k"})
	if got := be.hdr.Get("Authorization"); got != "" {
		t.Errorf("StripAuthorization forwarded %q", got)
	}
	if len(be.hdr.Get(exchange.HeaderRequestID)) != 32 {
		t.Errorf("generated request id = %q, want 32 hex chars", be.hdr.Get(exchange.HeaderRequestID))
	}
}

// sse writes a vLLM-like stream; with usage when the request asked for it.
func sse(w http.ResponseWriter, _ *http.Request, body []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for i := range 3 {
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d\"}}],\"usage\":null}\n\n", i)
		fl.Flush()
	}
	if bytes.Contains(body, []byte(`"include_usage":true`)) {
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n")
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func TestStreamingUsage(t *testing.T) {
	be := newBackend(t, sse)
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	tests := []struct {
		name      string
		body      string
		wantUsage bool
	}{
		{name: "client did not ask", body: `{"model":"base","stream":true,"messages":[{"role":"user","content":"hi"}]}`, wantUsage: false},
		{name: "client asked", body: `{"model":"base","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, wantUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, "/v1/chat/completions", tc.body, nil)
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			if !bytes.Contains(be.last, []byte(`"include_usage":true`)) {
				t.Errorf("upstream request did not ask for usage: %s", be.last)
			}
			out := rec.Body.String()
			if got := strings.Contains(out, `"usage":{`); got != tc.wantUsage {
				t.Errorf("usage chunk forwarded = %v, want %v:\n%s", got, tc.wantUsage, out)
			}
			if !strings.HasSuffix(out, "data: [DONE]\n\n") || strings.Count(out, `"content":"t`) != 3 {
				t.Errorf("stream mangled:\n%s", out)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	silent := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	h := setup(t, Options{FirstByteTimeout: 50 * time.Millisecond}, []string{silent.addr()}, []int{0})
	rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil)
	if rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("first-byte timeout: status %d, want 504: %s", rec.Code, rec.Body)
	}

	stalls := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	h = setup(t, Options{IdleTimeout: 50 * time.Millisecond}, []string{stalls.addr()}, []int{0})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"base","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("idle timeout: stream aborted (%v); want it ended with an error event", err)
	}
	const last = `data: {"error":{"message":"The model server stopped sending the response before it was complete.","type":"server_error","param":null,"code":"upstream_timeout"}}` + "\n\n"
	if !bytes.HasSuffix(got, []byte(last)) {
		t.Errorf("idle timeout: stream does not end with the timeout error event: %q", got)
	}
	if !bytes.Contains(got, []byte(`"content":"a"`)) {
		t.Errorf("the event before the stall was not forwarded: %q", got)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	upstreamDone := make(chan struct{})
	started := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		close(started)
		<-r.Context().Done()
		close(upstreamDone)
	})
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/completions", strings.NewReader(`{"model":"base","prompt":"x"}`))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	<-started
	cancel()
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("upstream request not cancelled after the client left")
	}
	<-done
	if ep := h.router.Models(); len(ep) == 0 {
		t.Fatal("router lost its models")
	}
}

func TestGatewayErrors(t *testing.T) {
	be := newBackend(t, okJSON)
	h := setup(t, Options{MaxBodyBytes: 64}, []string{be.addr()}, []int{0})
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		want                     int
		code                     string
	}{
		{name: "invalid json", path: "/v1/completions", body: `{"model"`, want: 400},
		{name: "missing model", path: "/v1/completions", body: `{"prompt":"x"}`, want: 400},
		{name: "unknown model", path: "/v1/completions", body: `{"model":"nope","prompt":"x"}`, want: 404, code: "model_not_found"},
		{name: "too large", path: "/v1/completions", body: `{"model":"base","prompt":"` + strings.Repeat("x", 100) + `"}`, want: 413},
		{name: "unknown path", path: "/v2/whatever", body: `{}`, want: 404},
		{name: "wrong method", method: http.MethodGet, path: "/v1/chat/completions", want: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, tc.path, strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if code := errorCode(t, rec.Body.Bytes()); tc.code != "" && code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
		})
	}
}

func TestShedsSheddableWhenSaturated(t *testing.T) {
	be := newBackend(t, okJSON)
	h := setup(t, Options{}, []string{be.addr()}, []int{50})
	rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, map[string]string{exchange.HeaderObjective: "batch"})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rec.Header().Get(exchange.HeaderDroppedReason) != exchange.DroppedSaturated {
		t.Fatalf("sheddable under saturation: %d (Retry-After %q, reason %q), want 429 with Retry-After and %s",
			rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get(exchange.HeaderDroppedReason), exchange.DroppedSaturated)
	}
	if rec := do(t, h, "/v1/completions", `{"model":"base","prompt":"x"}`, nil); rec.Code != 200 {
		t.Fatalf("priority 0 under saturation: %d, want 200", rec.Code)
	}
}

func TestModelsUnion(t *testing.T) {
	be := newBackend(t, okJSON)
	h := setup(t, Options{}, []string{be.addr()}, []int{0})
	req := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list.Object != "list" {
		t.Fatalf("bad model list %s: %v", rec.Body, err)
	}
	var ids []string
	for _, d := range list.Data {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "alias,base,lora-a" {
		t.Errorf("models = %v, want alias, base, lora-a", ids)
	}
}

func TestStreamCompleteWhenClientLeavesAfterDone(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n")
		io.WriteString(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":3}}\n\ndata: [DONE]\n\n")
		w.(http.Flusher).Flush()
		select { // the body's final framing never comes while the client is there
		case <-release:
		case <-r.Context().Done():
		}
	})
	logs := &testlog.Buffer{}
	h := setup(t, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}, []string{be.addr()}, []int{0})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"base","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before [DONE]: %v", err)
		}
		if strings.HasPrefix(line, "data: [DONE]") {
			break
		}
	}
	resp.Body.Close() // leave, as SDKs do after [DONE]
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "msg=request") {
		if time.Now().After(deadline) {
			t.Fatal("no access log for the request")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if l := logs.String(); !strings.Contains(l, `error_code=""`) || !strings.Contains(l, "completion_tokens=1") {
		t.Errorf("a stream that delivered [DONE] was not recorded as a success with usage:\n%s", l)
	}
}

func TestControlHeaders(t *testing.T) {
	be := newBackend(t, okJSON)
	body := `{"model":"base","prompt":"x"}`
	trusted := setup(t, Options{}, []string{be.addr()}, []int{0})
	for name, tc := range map[string]struct {
		hdr   map[string]string
		param string
	}{
		"invalid UTF-8 rewrite":  {map[string]string{exchange.HeaderModelRewriteLegacy: "sql-lora\xff\xfe"}, exchange.HeaderModelRewriteLegacy},
		"control char objective": {map[string]string{exchange.HeaderObjective: "batch\x01"}, exchange.HeaderObjective},
		"long fairness ID":       {map[string]string{exchange.HeaderFairnessIDLegacy: strings.Repeat("f", exchange.MaxControlValueBytes+1)}, exchange.HeaderFairnessIDLegacy},
		"long rewrite":           {map[string]string{exchange.HeaderModelRewrite: strings.Repeat("m", 1<<20)}, exchange.HeaderModelRewrite},
	} {
		t.Run(name, func(t *testing.T) {
			rec := do(t, trusted, "/v1/completions", body, tc.hdr)
			var e struct {
				Error struct{ Param string } `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != http.StatusBadRequest || e.Error.Param != tc.param {
				t.Errorf("got %d param %q (%s), want 400 naming %s", rec.Code, e.Error.Param, rec.Body, tc.param)
			}
		})
	}

	// llm-d's spelling wins over the older one.
	if rec := do(t, trusted, "/v1/completions", body, map[string]string{exchange.HeaderModelRewrite: "new", exchange.HeaderModelRewriteLegacy: "old"}); rec.Code != 200 {
		t.Fatalf("rewrite: %d %s", rec.Code, rec.Body)
	}
	be.mu.Lock()
	sent := string(be.last)
	be.mu.Unlock()
	if !strings.Contains(sent, `"model":"new"`) {
		t.Errorf("replica got %s, want the x-llm-d-model-name-rewrite target", sent)
	}

	// Untrusted: removed before routing and never forwarded.
	untrusted := setup(t, Options{DropControlHeaders: true}, []string{be.addr()}, []int{0})
	rec := do(t, untrusted, "/v1/completions", body, map[string]string{
		exchange.HeaderModelRewrite: "sql-lora\xff", exchange.HeaderObjectiveLegacy: "critical", "x-slo-ttft-ms": "10"})
	if rec.Code != 200 {
		t.Fatalf("untrusted control headers: %d %s, want 200 (ignored)", rec.Code, rec.Body)
	}
	be.mu.Lock()
	sent, hdr := string(be.last), be.hdr
	be.mu.Unlock()
	if !strings.Contains(sent, `"model":"base"`) {
		t.Errorf("replica got %s, want the client's model unchanged", sent)
	}
	for _, k := range []string{exchange.HeaderModelRewrite, exchange.HeaderObjectiveLegacy, "x-slo-ttft-ms"} {
		if hdr.Get(k) != "" {
			t.Errorf("untrusted %s reached the replica", k)
		}
	}
}
