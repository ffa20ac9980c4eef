package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/infergate/infergate/internal/proctest"
)

// extProcRE finds the ext_proc listeners on the gateway's serving line.
var extProcRE = regexp.MustCompile(`extproc=(\S+) extproc_health=(\S+)`)

// envoyLite is the smallest Envoy that exercises a real `infergate serve`
// over ext_proc: FULL_DUPLEX_STREAMED request and response, forwarding to
// the ip:port the picker chose as an ORIGINAL_DST cluster does. (The full
// Envoy-behaving client and its protocol tests are in internal/extproc.)
type envoyLite struct {
	t  *testing.T
	ps extprocv3.ExternalProcessor_ProcessClient
}

func hdrs(pairs ...string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: pairs[i], RawValue: []byte(pairs[i+1])})
	}
	return m
}

// decide sends a POST with body in 16 KiB chunks and returns the chosen
// destination and the body the picker sent back.
func (e *envoyLite) decide(path string, body []byte) (netip.AddrPort, []byte) {
	t := e.t
	t.Helper()
	if err := e.ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
		Headers: hdrs(":method", "POST", ":path", path, "content-type", "application/json")}}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(body); i += 16 << 10 {
		end := min(i+16<<10, len(body))
		if err := e.ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{
			Body: body[i:end], EndOfStream: end == len(body)}}}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := e.ps.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ir := m.GetImmediateResponse(); ir != nil {
		t.Fatalf("immediate response %d: %s", ir.GetStatus().GetCode(), ir.GetBody())
	}
	var dest string
	for _, h := range m.GetRequestHeaders().GetResponse().GetHeaderMutation().GetSetHeaders() {
		if h.GetHeader().GetKey() == "x-gateway-destination-endpoint" {
			dest = string(h.GetHeader().GetRawValue())
		}
	}
	ap, err := netip.ParseAddrPort(dest)
	if err != nil {
		t.Fatalf("destination %q: %v", dest, err)
	}
	var out []byte
	for {
		m, err := e.ps.Recv()
		if err != nil {
			t.Fatal(err)
		}
		sr := m.GetRequestBody().GetResponse().GetBodyMutation().GetStreamedResponse()
		out = append(out, sr.GetBody()...)
		if sr.GetEndOfStream() {
			return ap, out
		}
	}
}

// respond feeds the replica's response through the picker in pieces of
// piece bytes and returns what the picker passed on.
func (e *envoyLite) respond(resp *http.Response, piece int) []byte {
	t := e.t
	t.Helper()
	if err := e.ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
		Headers: hdrs(":status", strconv.Itoa(resp.StatusCode), "content-type", resp.Header.Get("Content-Type"))}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ps.Recv(); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, piece)
	for {
		n, rerr := io.ReadFull(resp.Body, buf)
		eos := rerr != nil
		if n > 0 || eos {
			if err := e.ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{
				Body: bytes.Clone(buf[:n]), EndOfStream: eos}}}); err != nil {
				t.Fatal(err)
			}
		}
		if eos {
			break
		}
	}
	for {
		m, err := e.ps.Recv()
		if err != nil {
			t.Fatal(err)
		}
		sr := m.GetResponseBody().GetResponse().GetBodyMutation().GetStreamedResponse()
		out = append(out, sr.GetBody()...)
		if sr.GetEndOfStream() {
			_ = e.ps.CloseSend()
			return out
		}
	}
}

// TestExtProcServe runs `infergate serve` with the proxy and ext_proc side
// by side over two simulators: gRPC health turns SERVING, a streamed chat
// completion is picked over ext_proc and served by the chosen replica,
// the same request metrics as the proxy's come out, and SIGTERM lets an
// ext_proc stream in flight finish before the process exits.
func TestExtProcServe(t *testing.T) {
	_, a := startSim(t, "sim-a", "--time-scale", "1")
	_, b := startSim(t, "sim-b", "--time-scale", "1")
	gw := startGateway(t, poolYAML(a, b)+"extProc:\n  listen: 127.0.0.1:0\n  healthListen: 127.0.0.1:0\n  plaintext: true\n")
	m := extProcRE.FindStringSubmatch(gw.Output())
	if m == nil {
		t.Fatalf("no ext_proc listeners on the serving line:\n%s", gw.Output())
	}
	dial := func(addr string) *grpc.ClientConn {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return cc
	}
	ctx := testContext(t, time.Minute)
	health := healthpb.NewHealthClient(dial(m[2]))
	for _, svc := range []string{"inference-extension", "readiness", "liveness", "envoy.service.ext_proc.v3.ExternalProcessor"} {
		r, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v", svc, r.GetStatus(), err)
		}
	}

	picker := extprocv3.NewExternalProcessorClient(dial(m[1]))
	open := func() *envoyLite {
		ps, err := picker.Process(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &envoyLite{t: t, ps: ps}
	}

	// A plain completion, end to end; the request metrics count it.
	e := open()
	dest, out := e.decide("/v1/chat/completions", []byte(chatBody(baseModel, "s", "hello", 5, false)))
	resp, err := http.Post("http://"+dest.String()+"/v1/chat/completions", "application/json", bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.respond(resp, 50); !bytes.Contains(got, []byte(`"completion_tokens":5`)) {
		t.Fatalf("completion through the picker: %s", got)
	}
	resp.Body.Close()
	eventually(t, 10*time.Second, "the request in the metrics", func() bool {
		fams := scrape(t, gw.MetricsURL+"/metrics", gw.Token)
		return sum(fams, "inference_objective_request_total") == 1 && histCount(fams, "inference_objective_output_tokens") == 1
	})

	e = open()
	body := []byte(chatBody(baseModel, "s", words(1, 2000), 30, true))
	dest, out = e.decide("/v1/chat/completions", body)
	if dest.String() != a && dest.String() != b {
		t.Fatalf("destination %s is not a replica", dest)
	}
	if !bytes.Contains(out, []byte(`"include_usage":true`)) {
		t.Errorf("usage not requested from the replica: %s", out[len(out)-80:])
	}
	resp, err = http.Post("http://"+dest.String()+"/v1/chat/completions", "application/json", bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// SIGTERM while the stream is in flight: the picker drains it.
	gw.Signal(syscall.SIGTERM)
	got := e.respond(resp, 100)
	if !strings.HasSuffix(string(got), "data: [DONE]\n\n") || strings.Count(string(got), `"content":`) < 29 {
		t.Fatalf("stream through the picker during the drain: %q", got[max(0, len(got)-200):])
	}
	if strings.Contains(string(got), `"usage":{"prompt_tokens"`) {
		t.Error("usage chunk passed to a client that did not ask for it")
	}
	exitErr, exited := gw.Wait(30 * time.Second)
	if !exited || exitErr != nil {
		t.Fatalf("gateway exit %v (exited %v)\n%s", exitErr, exited, gw.Output())
	}
	// The access log line is the exchange's, as from the proxy.
	if n := len(regexp.MustCompile(`msg=request component=extproc .*status=200 error_code="" `).FindAllString(gw.Output(), -1)); n != 2 {
		t.Errorf("%d ext_proc access log lines, want 2:\n%s", n, gw.Output())
	}
}

// TestExtProcUpstreamFlags starts `infergate serve` the way an upstream
// picker manifest would, with infergate's --extproc-* flags and upstream's
// flags that have no meaning here: it serves ext_proc in plaintext and says
// which flags it ignored.
func TestExtProcUpstreamFlags(t *testing.T) {
	_, a := startSim(t, "sim-a")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("it-token-"+strings.Repeat("y", 24)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nmetrics:\n  auth:\n    tokenFile: %s\n%s", tokenFile, poolYAML(a))
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, binPath, "--config", path, "--extproc-listen", "127.0.0.1:0", "--extproc-plaintext",
		"--v", "4", "--zap-encoder", "json", "--config-file", "/nonexistent/epp.yaml", "--metrics-port", "9090")
	out := gw.Output()
	m := regexp.MustCompile(`extproc=(\S+) extproc_health=off extproc_tls=false extproc_pool=test`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("serving line without plaintext ext_proc:\n%s", out)
	}
	for _, f := range []string{"--v", "--zap-encoder", "--config-file", "--metrics-port"} {
		if !strings.Contains(out, "flag="+f) {
			t.Errorf("no warning for %s:\n%s", f, out)
		}
	}
	cc, err := grpc.NewClient(m[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ps, err := extprocv3.NewExternalProcessorClient(cc).Process(testContext(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
		Headers: hdrs(":method", "GET", ":path", "/v1/models"), EndOfStream: true}}}); err != nil {
		t.Fatal(err)
	}
	r, err := ps.Recv()
	if err != nil || r.GetImmediateResponse().GetStatus().GetCode() != 200 || !bytes.Contains(r.GetImmediateResponse().GetBody(), []byte(baseModel)) {
		t.Fatalf("models over ext_proc: %v %v", r, err)
	}
}
