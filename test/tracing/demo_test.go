package tracing

import (
	"net/http"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/proctest"
)

// demoProxyRE matches the demo's proxy address line.
var demoProxyRE = regexp.MustCompile(`OpenAI proxy:\s+(http://\S+)/v1`)

// TestDemoTracesInJaeger runs `infergate demo` with the standard OTLP
// variable pointing at a real Jaeger and checks that one request's trace
// holds the demo gateway's spans, continued from the client's traceparent,
// and the simulated replica's llm_request span under the upstream attempt.
func TestDemoTracesInJaeger(t *testing.T) {
	j := startJaeger(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPHTTP)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	p, m := startDemo(t, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--token-file", filepath.Join(t.TempDir(), "demo.token"), "--time-scale", "50")
	proxy := m[1]

	tp, traceID, clientParent := newTraceparent(t)
	if status, pod := post(t, proxy, tp, true); status != http.StatusOK || pod == "" {
		t.Fatalf("status %d from %q, want 200 from a replica", status, pod)
	}
	server := "POST /v1/chat/completions"
	tr, _ := j.waitTrace(t, traceID, server, "infergate.parse", "infergate.route", "infergate.upstream", "llm_request")
	srv := one(t, tr, server)
	if got := srv.parent(); got != clientParent {
		t.Errorf("server span's parent = %q, want the client's %q", got, clientParent)
	}
	if svc := tr.Processes[srv.ProcessID].ServiceName; svc != "infergate" {
		t.Errorf("demo gateway service.name = %q, want infergate", svc)
	}
	wantTag(t, one(t, tr, "infergate.route"), "infergate.pool", "demo")
	wantTag(t, srv, "gen_ai.response.model", model)
	up := one(t, tr, "infergate.upstream")
	if got := up.parent(); got != srv.SpanID {
		t.Errorf("attempt span's parent = %q, want the server span %q", got, srv.SpanID)
	}
	sim := one(t, tr, "llm_request")
	if got := sim.parent(); got != up.SpanID {
		t.Errorf("replica span's parent = %q, want the upstream attempt %q (traceparent propagated)", got, up.SpanID)
	}
	if svc := tr.Processes[sim.ProcessID].ServiceName; svc != "infergate-sim" {
		t.Errorf("replica service.name = %q, want infergate-sim", svc)
	}
	endpoint, _ := up.tag("infergate.endpoint")
	wantTag(t, sim, "infergate.replica", endpoint)

	p.Signal(syscall.SIGINT)
	if err, ok := p.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("demo did not exit cleanly on Ctrl-C (exited=%v err=%v):\n%s", ok, err, p.Output())
	}
}

// startDemo runs `infergate demo` with args and waits until it prints its
// proxy address (the first submatch).
func startDemo(t *testing.T, args ...string) (*proctest.Proc, []string) {
	t.Helper()
	return proctest.Start(t, binPath, demoProxyRE, append([]string{"demo"}, args...)...)
}
