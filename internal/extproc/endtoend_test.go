package extproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/exchange"
)

// chatBody is a chat request for model with a prompt of n bytes.
func chatBody(model string, n int, stream bool) []byte {
	prompt := strings.Repeat("word ", n/5+1)[:n]
	s := ""
	if stream {
		s = `,"stream":true`
	}
	return fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":8%s}`, model, prompt, s)
}

// roundTrip runs one request through the picker and the chosen simulator:
// decision, forwarding, and the response fed back in pieces of piece
// bytes. It returns the decision, the upstream body and what the picker
// passed back.
func roundTrip(t *testing.T, p *picker, r httpReq, piece int, timeout time.Duration) (decided, []byte, []byte) {
	t.Helper()
	s := openStream(t, dialPicker(t, p.addr), timeout)
	d, err := s.request(r)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if d.immediate != nil {
		t.Fatalf("immediate response %d: %s", d.immediate.GetStatus().GetCode(), d.immediate.GetBody())
	}
	resp, err := forward(context.Background(), d, r)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	upstream := readAll(t, resp.Body)
	resp.Body.Close()
	var hdrs [][2]string
	for k := range resp.Header {
		hdrs = append(hdrs, [2]string{strings.ToLower(k), resp.Header.Get(k)})
	}
	got, _, err := s.respond(resp.StatusCode, hdrs, d.set[HeaderDestination], split(upstream, piece), false)
	if err != nil {
		t.Fatalf("respond: %v", err)
	}
	s.finish()
	return d, upstream, got
}

func TestChatCompletionEndToEnd(t *testing.T) {
	a, b := startSim(t, "a"), startSim(t, "b")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{a, b}, models: []string{simModel}})
	body := chatBody(simModel, 200, false)
	d, upstream, got := roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: body, headers: [][2]string{{"x-request-id", "req-1"}}}, 1<<20, testTimeout)

	dest := d.set[HeaderDestination]
	if dest != a && dest != b {
		t.Fatalf("destination %q is neither replica (%s, %s)", dest, a, b)
	}
	if md := d.metadata.GetFields()[NamespaceLB].GetStructValue().GetFields()[HeaderDestination].GetStringValue(); md != dest {
		t.Errorf("envoy.lb metadata destination %q, header %q", md, dest)
	}
	if !d.clearRoute {
		t.Error("route cache not cleared")
	}
	if !bytes.Equal(d.body, body) {
		t.Errorf("body changed on the way: %d bytes, sent %d", len(d.body), len(body))
	}
	if _, ok := d.set[exchange.HeaderRequestID]; ok {
		t.Error("x-request-id set although Envoy's was fine")
	}
	if !bytes.Equal(got, upstream) {
		t.Errorf("response body changed: %q, replica sent %q", got, upstream)
	}
	recs := p.rec.waitRecords(t, 1)
	r := recs[0]
	if r.ErrorCode != "" || r.InputTokens == 0 || r.OutputTokens == 0 || r.ResponseBytes != len(upstream) || r.RequestBytes != len(body) {
		t.Errorf("record %+v", r)
	}
	if p.rec.runningTotal() != 0 {
		t.Errorf("running gauge %d after the end", p.rec.runningTotal())
	}
	for _, ep := range p.endpoints("test") {
		if ep.InFlight() != 0 {
			t.Errorf("%s: %d in flight after the end", ep.Name(), ep.InFlight())
		}
	}
}

// TestStreamSplitMidEvent streams a chat completion whose client did not
// ask for usage: the picker turns include_usage on (the body grows, and
// Content-Length with it), the replica's SSE stream is fed back in 7-byte
// pieces (events cut anywhere), and the client gets every event but the
// usage chunk, while usage and TTFT are recorded.
func TestStreamSplitMidEvent(t *testing.T) {
	a := startSim(t, "a")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{a}, models: []string{simModel}})
	body := chatBody(simModel, 100, true)
	d, upstream, got := roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: body}, 7, testTimeout)
	if !bytes.Contains(d.body, []byte(`"include_usage":true`)) || len(d.body) <= len(body) {
		t.Fatalf("include_usage not injected: %s", d.body)
	}
	if !bytes.Contains(upstream, []byte(`"usage":{`)) {
		t.Fatalf("replica sent no usage chunk: %s", upstream)
	}
	if bytes.Contains(got, []byte(`"usage":{"prompt_tokens"`)) {
		t.Errorf("usage chunk passed to a client that did not ask: %s", got)
	}
	if !bytes.HasSuffix(got, []byte("data: [DONE]\n\n")) {
		t.Errorf("stream does not end with [DONE]: %q", got)
	}
	// Every event the client got is whole and was sent by the replica.
	for ev := range strings.SplitSeq(strings.TrimSuffix(string(got), "\n\n"), "\n\n") {
		if !bytes.Contains(upstream, []byte(ev+"\n\n")) {
			t.Errorf("event %q is not one of the replica's", ev)
		}
	}
	r := p.rec.waitRecords(t, 1)[0]
	if r.ErrorCode != "" || r.OutputTokens == 0 || r.TTFT <= 0 {
		t.Errorf("record %+v", r)
	}
}

// TestLargeBodyInEnvoyChunks sends a 1.5 MB body in 16 KiB chunks: it
// reaches the replica byte for byte, in body messages under 64 KiB.
func TestLargeBodyInEnvoyChunks(t *testing.T) {
	var mu sync.Mutex
	var gotSum [32]byte
	var gotLen int
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		gotSum, gotLen = sha256.Sum256(b), len(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer backend.Close()
	addr := strings.TrimPrefix(backend.URL, "http://")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{addr}, models: []string{simModel}})
	body := chatBody(simModel, 1_500_000, false)
	d, _, _ := roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: body}, 1<<20, testTimeout)
	mu.Lock()
	defer mu.Unlock()
	if gotLen != len(body) || gotSum != sha256.Sum256(body) {
		t.Fatalf("replica got %d bytes (sum differs: %v), sent %d", gotLen, gotSum != sha256.Sum256(body), len(body))
	}
	if d.maxMsg > 64<<10 || d.bodyMsgs < len(body)/(64<<10) {
		t.Errorf("body came back in %d messages of at most %d bytes", d.bodyMsgs, d.maxMsg)
	}
}

// TestLongPromptWithinMessageTimeout sends a 50k-token prompt (200 kB) in
// 16 KiB chunks: decided within a 1 s message timeout and served by the
// replica.
func TestLongPromptWithinMessageTimeout(t *testing.T) {
	a := startSim(t, "a")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{a}, models: []string{simModel}})
	body := chatBody(simModel, 200_000, false)
	_, upstream, got := roundTrip(t, p, httpReq{path: "/v1/chat/completions", body: body}, 1<<20, testTimeout)
	var resp struct {
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(got, &resp); err != nil || resp.Usage.PromptTokens < 40_000 {
		t.Fatalf("replica answer %s (%v)", upstream, err)
	}
}

// TestRequestEndingWithTrailers: a request whose body ends with trailers
// (no end_of_stream on any chunk) is decided on the trailers, its body
// comes back without end_of_stream and the trailers are let through.
func TestRequestEndingWithTrailers(t *testing.T) {
	a := startSim(t, "a")
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{a}, models: []string{simModel}})
	body := chatBody(simModel, 40_000, false)
	r := httpReq{path: "/v1/chat/completions", body: body, trailers: true}
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(r)
	if err != nil {
		t.Fatal(err)
	}
	if !d.trailers || !bytes.Equal(d.body, body) {
		t.Fatalf("trailers answered %v, body intact %v", d.trailers, bytes.Equal(d.body, body))
	}
	resp, err := forward(context.Background(), d, r)
	if err != nil {
		t.Fatal(err)
	}
	upstream := readAll(t, resp.Body)
	resp.Body.Close()
	// The response ends with trailers too (an HTTP/2 replica).
	got, _, err := s.respond(resp.StatusCode, [][2]string{{"content-type", "application/json"}}, "", split(upstream, 100), true)
	if err != nil || !bytes.Equal(got, upstream) {
		t.Fatalf("response through trailers: %v, intact %v", err, bytes.Equal(got, upstream))
	}
	s.finish()
	if r := p.rec.waitRecords(t, 1)[0]; r.ErrorCode != "" || r.OutputTokens == 0 {
		t.Errorf("record %+v", r)
	}
}
