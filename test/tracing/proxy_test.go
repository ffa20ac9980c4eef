package tracing

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/proctest"
)

// binPath is the infergate binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	bin, cleanup, err := proctest.Build("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = bin
	code := m.Run()
	cleanup()
	os.Exit(code)
}

const model = "meta-llama/Llama-3.1-8B-Instruct"

// secretPrompt marks the prompt text, which must appear in no span.
const secretPrompt = "do-not-trace-this-prompt-8c1f"

// newTraceparent returns a sampled W3C traceparent and its trace ID.
func newTraceparent(t *testing.T) (header, traceID, parentID string) {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	traceID, parentID = hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
	return "00-" + traceID + "-" + parentID + "-01", traceID, parentID
}

// post sends a chat completion with a client traceparent and returns the
// status and the served-by replica.
func post(t *testing.T, url, traceparent string, stream bool) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":4,"stream":%t}`, model, secretPrompt, stream)
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", traceparent)
	req.Header.Set("tracestate", "client=1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("x-inference-pod")
}

// byName returns the trace's spans named name.
func byName(tr jTrace, name string) []jSpan {
	var out []jSpan
	for _, s := range tr.Spans {
		if s.OperationName == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the single span named name.
func one(t *testing.T, tr jTrace, name string) jSpan {
	t.Helper()
	s := byName(tr, name)
	if len(s) != 1 {
		t.Fatalf("trace %s: %d spans named %q, want 1", tr.TraceID, len(s), name)
	}
	return s[0]
}

// wantTag checks a span attribute's value (numbers compare as float64, as
// JSON decodes them).
func wantTag(t *testing.T, s jSpan, key string, want any) {
	t.Helper()
	got, ok := s.tag(key)
	if !ok {
		t.Errorf("span %s: no attribute %s", s.OperationName, key)
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("span %s: %s = %v, want %v", s.OperationName, key, got, want)
	}
}

// TestTracesInJaeger sends requests through `infergate serve` to simulators,
// all exporting OTLP to a real Jaeger, and reads the traces back: the span
// tree continued from the client's traceparent down to the replica, the
// attributes, and a retry as sibling attempt spans.
func TestTracesInJaeger(t *testing.T) {
	j := startJaeger(t)
	// The simulators export through the standard variables, as vLLM; the
	// gateway through its tracing.* keys (which win over these).
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPHTTP)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	_, addrA := proctest.StartSim(t, binPath, "127.0.0.1:0", "sim-a", "--time-scale", "50")
	simB, addrB := proctest.StartSim(t, binPath, "127.0.0.1:0", "sim-b", "--time-scale", "50")

	dir := t.TempDir()
	token := "trace-token-" + strings.Repeat("t", 24)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// One scrape at warm-up and none after (interval 1h): a replica killed
	// later still looks healthy, so requests reach it and retry.
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
metricsListen: 127.0.0.1:0
metrics:
  auth:
    tokenFile: %s
scrape:
  interval: 1h
  timeout: 1s
  staleness: 2h
pools:
- name: traced
  endpoints:
  - name: sim-a
    address: %s
  - name: sim-b
    address: %s
tracing:
  enabled: true
  endpoint: %s
  protocol: grpc
  serviceName: infergate-test
`, tokenFile, addrA, addrB, j.OTLPGRPC)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, binPath, "--config", path, "--log-level", "info")

	// 1. A streamed request continuing the client's trace.
	tp, traceID, clientParent := newTraceparent(t)
	if status, _ := post(t, gw.URL, tp, true); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	server := "POST /v1/chat/completions"
	tr, raw := j.waitTrace(t, traceID, server, "infergate.parse", "infergate.route", "infergate.upstream", "llm_request")
	if bytes.Contains(raw, []byte(secretPrompt)) {
		t.Errorf("the prompt text is in the trace:\n%s", raw)
	}
	srv := one(t, tr, server)
	if got := srv.parent(); got != clientParent {
		t.Errorf("server span's parent = %q, want the client's %q", got, clientParent)
	}
	if svc := tr.Processes[srv.ProcessID].ServiceName; svc != "infergate-test" {
		t.Errorf("gateway service.name = %q, want infergate-test (tracing.serviceName)", svc)
	}
	for _, name := range []string{"infergate.parse", "infergate.route", "infergate.upstream"} {
		if got := one(t, tr, name).parent(); got != srv.SpanID {
			t.Errorf("%s's parent = %q, want the server span %q", name, got, srv.SpanID)
		}
	}
	wantTag(t, srv, "gen_ai.request.model", model)
	wantTag(t, srv, "gen_ai.response.model", model) // the simulator answers with the model asked for
	wantTag(t, srv, "gen_ai.operation.name", "chat")
	wantTag(t, srv, "http.response.status_code", 200)
	if _, ok := srv.tag("gen_ai.usage.output_tokens"); !ok {
		t.Errorf("server span has no gen_ai.usage.output_tokens")
	}
	if !srv.hasEvent("infergate.first_byte") || !srv.hasEvent("infergate.end_of_stream") {
		t.Errorf("server span lacks the first-byte or end-of-stream event: %+v", srv.Logs)
	}
	route := one(t, tr, "infergate.route")
	wantTag(t, route, "infergate.pool", "traced")
	wantTag(t, route, "infergate.target_model", model)
	wantTag(t, route, "infergate.admission", "admitted")
	for _, k := range []string{"infergate.endpoint", "infergate.score.total", "infergate.prefix.blocks_matched", "infergate.candidates"} {
		if _, ok := route.tag(k); !ok {
			t.Errorf("route span has no %s", k)
		}
	}
	up := one(t, tr, "infergate.upstream")
	wantTag(t, up, "infergate.attempt", 1)
	wantTag(t, up, "http.response.status_code", 200)
	sim := one(t, tr, "llm_request")
	if got := sim.parent(); got != up.SpanID {
		t.Errorf("simulator span's parent = %q, want the upstream attempt %q (traceparent propagated)", got, up.SpanID)
	}
	if svc := tr.Processes[sim.ProcessID].ServiceName; svc != "infergate-sim" {
		t.Errorf("simulator service.name = %q, want infergate-sim", svc)
	}
	if !strings.Contains(gw.Output(), traceID) {
		t.Errorf("access log lacks trace_id %s:\n%s", traceID, gw.Output())
	}

	// 2. Replica b dies; the gateway, not scraping again, still picks it for
	// some requests and retries them on a: two sibling attempt spans.
	simB.Signal(syscall.SIGKILL)
	if _, ok := simB.Wait(10 * time.Second); !ok {
		t.Fatal("sim-b did not exit")
	}
	var retried jTrace
	for i := 0; i < 20 && retried.TraceID == ""; i++ {
		tp, id, _ := newTraceparent(t)
		status, pod := post(t, gw.URL, tp, false)
		if status != http.StatusOK || pod != "sim-a" {
			t.Fatalf("request %d: status %d from %q, want 200 from sim-a", i, status, pod)
		}
		tr, _ := j.waitTrace(t, id, server, "infergate.upstream", "llm_request")
		if len(byName(tr, "infergate.upstream")) == 2 {
			retried = tr
		}
	}
	if retried.TraceID == "" {
		t.Fatal("no request of 20 was first sent to the dead replica")
	}
	srv = one(t, retried, server)
	ups := byName(retried, "infergate.upstream")
	for _, u := range ups {
		if u.parent() != srv.SpanID {
			t.Errorf("attempt span %s's parent = %q, want the server span %q (siblings)", u.SpanID, u.parent(), srv.SpanID)
		}
	}
	first, second := ups[0], ups[1]
	if n, _ := first.tag("infergate.attempt"); fmt.Sprint(n) == "2" {
		first, second = second, first
	}
	wantTag(t, first, "infergate.attempt", 1)
	wantTag(t, first, "infergate.endpoint", "sim-b")
	wantTag(t, first, "otel.status_code", "ERROR")
	wantTag(t, second, "infergate.attempt", 2)
	wantTag(t, second, "infergate.endpoint", "sim-a")
	wantTag(t, second, "infergate.retry_reason", "connect error")
	wantTag(t, second, "http.request.resend_count", 1)
	if got := one(t, retried, "llm_request").parent(); got != second.SpanID {
		t.Errorf("simulator span's parent = %q, want the second attempt %q", got, second.SpanID)
	}
}
