package tracing

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
	"github.com/infergate/infergate/internal/proctest"
)

// extProcServingRE matches the gateway's readiness line and captures the
// ext_proc listener's address.
var extProcServingRE = regexp.MustCompile(`gateway serving.* extproc=(\S+)`)

// TestExtProcTracesInJaeger runs the picker (`infergate serve` with the
// native proxy off and ext_proc on) behind the Go Envoy stand-in, in front
// of a real simulator, the picker and the simulator exporting OTLP to a
// real Jaeger. The picker's stream span continues the client's trace (the
// stand-in hands the picker the request headers, as Envoy does), with the
// decision and response spans under it; the simulator's llm_request span
// continues from the traceparent the picker set by header mutation.
func TestExtProcTracesInJaeger(t *testing.T) {
	j := startJaeger(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPHTTP)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	_, simAddr := proctest.StartSim(t, binPath, "127.0.0.1:0", "sim-x", "--time-scale", "50")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("extproc-trace-token-"+strings.Repeat("x", 24)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`listen: "off"
metricsListen: 127.0.0.1:0
metrics:
  auth:
    tokenFile: %s
extProc:
  listen: 127.0.0.1:0
  plaintext: true
pools:
- name: picked
  endpoints:
  - name: sim-x
    address: %s
tracing:
  enabled: true
  endpoint: %s
  protocol: grpc
  serviceName: infergate-picker
`, tokenFile, simAddr, j.OTLPGRPC)
	path := filepath.Join(dir, "picker.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	picker, m := proctest.Start(t, binPath, extProcServingRE, "serve", "--config", path, "--log-level", "info")
	standIn, err := envoystandin.New(envoystandin.Config{ExtProcAddr: m[1], Plaintext: true, MessageTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standIn.Close() })

	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			tp, traceID, clientParent := newTraceparent(t)
			if status, _ := post(t, standIn.URL(), tp, stream); status != http.StatusOK {
				t.Fatalf("status %d through the stand-in", status)
			}
			tr, raw := j.waitTrace(t, traceID, "infergate.extproc.stream", "infergate.extproc.decision", "infergate.extproc.response", "llm_request")
			if bytes.Contains(raw, []byte(secretPrompt)) {
				t.Errorf("the prompt text is in the trace:\n%s", raw)
			}
			st := one(t, tr, "infergate.extproc.stream")
			if got := st.parent(); got != clientParent {
				t.Errorf("stream span's parent = %q, want the client's %q (continued through the stand-in)", got, clientParent)
			}
			if svc := tr.Processes[st.ProcessID].ServiceName; svc != "infergate-picker" {
				t.Errorf("picker service.name = %q, want infergate-picker", svc)
			}
			wantTag(t, st, "gen_ai.request.model", model)
			wantTag(t, st, "http.response.status_code", 200)
			wantTag(t, st, "infergate.stream", stream)
			for _, k := range []string{"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"} {
				if _, ok := st.tag(k); !ok {
					t.Errorf("stream span has no %s", k)
				}
			}
			dec := one(t, tr, "infergate.extproc.decision")
			resp := one(t, tr, "infergate.extproc.response")
			for _, s := range []jSpan{dec, resp} {
				if got := s.parent(); got != st.SpanID {
					t.Errorf("%s's parent = %q, want the stream span %q", s.OperationName, got, st.SpanID)
				}
			}
			wantTag(t, dec, "infergate.pool", "picked")
			wantTag(t, dec, "infergate.endpoint", "sim-x")
			wantTag(t, dec, "infergate.admission", "admitted")
			wantTag(t, resp, "http.response.status_code", 200)
			wantTag(t, st, "gen_ai.response.model", model)
			wantTag(t, resp, "gen_ai.response.model", model)
			sim := one(t, tr, "llm_request")
			if got := sim.parent(); got != st.SpanID {
				t.Errorf("simulator span's parent = %q, want the picker's stream span %q (traceparent set by header mutation)", got, st.SpanID)
			}
			if svc := tr.Processes[sim.ProcessID].ServiceName; svc != "infergate-sim" {
				t.Errorf("simulator service.name = %q, want infergate-sim", svc)
			}
			if !strings.Contains(picker.Output(), traceID) {
				t.Errorf("picker's access log lacks trace_id %s", traceID)
			}
		})
	}
}
