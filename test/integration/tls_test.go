package integration

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/infergate/infergate/internal/proctest"
	"github.com/infergate/infergate/internal/testca"
)

// TestTLS runs the whole path over TLS: an OpenAI client speaks HTTPS to the
// gateway, which speaks HTTPS to two replicas (one requiring a client
// certificate) and serves /metrics over HTTPS. It then rotates the proxy's
// certificate files and checks that a new connection gets the new
// certificate, and that a replica whose certificate the gateway does not
// trust costs the client a 502/503, not a hang.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testca.New(t, "infergate-it-ca")
	caFile := ca.WriteCA(t, dir, "ca.crt")
	simTLS := func(name string, issuer *testca.CA) []string {
		cert, key := issuer.Server(t, name).Write(t, dir, name)
		return []string{"--tls-cert-file", cert, "--tls-key-file", key, "--time-scale", "20"}
	}
	_, addrA := startSim(t, "sim-a", simTLS("sim-a", ca)...)
	_, addrB := startSim(t, "sim-b", append(simTLS("sim-b", ca), "--tls-client-ca-file", caFile)...)
	_, addrUntrusted := startSim(t, "sim-untrusted", append(simTLS("sim-untrusted", testca.New(t, "other-ca")), "--model", "untrusted-model")...)

	proxyCert, proxyKey := ca.Server(t, "gateway-proxy").Write(t, dir, "proxy")
	metricsCert, metricsKey := ca.Server(t, "gateway-metrics").Write(t, dir, "metrics")
	clientCert, clientKey := ca.Client(t, "gateway").Write(t, dir, "gateway-client")
	gw := startGateway(t, fmt.Sprintf(`
tls:
  proxy: {certFile: %s, keyFile: %s}
  metrics: {certFile: %s, keyFile: %s}
upstream:
  tls: {enabled: true, caFile: %s, certFile: %s, keyFile: %s}
scheduler: {strategy: round-robin}
pools:
- name: trusted
  endpoints:
  - {name: sim-a, address: %s}
  - {name: sim-b, address: %s}
- name: untrusted
  endpoints:
  - {name: sim-untrusted, address: %s}
models:
- {name: %s, pool: trusted}
- {name: untrusted-model, pool: untrusted}
`, proxyCert, proxyKey, metricsCert, metricsKey, caFile, clientCert, clientKey, addrA, addrB, addrUntrusted, baseModel))
	if !strings.HasPrefix(gw.URL, "https://") || !strings.HasPrefix(gw.MetricsURL, "https://") {
		t.Fatalf("gateway listeners %s, %s: want https (the readiness line should say proxy_tls=true metrics_tls=true):\n%s", gw.URL, gw.MetricsURL, gw.Output())
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}}}
	t.Cleanup(trusting.CloseIdleConnections)
	client := openai.NewClient(
		option.WithBaseURL(gw.URL+"/v1/"),
		option.WithAPIKey("sk-client-key"),
		option.WithHTTPClient(trusting),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(30*time.Second),
	)
	ctx := testContext(t, 2*time.Minute)

	t.Run("chat over HTTPS reaches both replicas", func(t *testing.T) {
		served := map[string]bool{}
		for i := 0; i < 20 && len(served) < 2; i++ {
			var raw *http.Response
			resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model:     baseModel,
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
				MaxTokens: openai.Int(4),
			}, option.WithResponseInto(&raw))
			if err != nil {
				t.Fatalf("chat: %v\ngateway output:\n%s", err, gw.Output())
			}
			if len(resp.Choices) != 1 || resp.Choices[0].Message.Content == "" {
				t.Fatalf("chat: want one non-empty choice, got %+v", resp.Choices)
			}
			served[raw.Header.Get("x-inference-pod")] = true
		}
		if !served["sim-a"] || !served["sim-b"] {
			t.Fatalf("replicas that answered: %v; want sim-a and sim-b (sim-b requires the gateway's client certificate)", served)
		}
	})

	t.Run("replica requires a client certificate", func(t *testing.T) {
		// Without this, the previous subtest would not show that the
		// gateway presents its client certificate.
		noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
		defer noCert.CloseIdleConnections()
		resp, err := noCert.Get("https://" + addrB + "/v1/models")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("sim-b answered %d to a client without a certificate", resp.StatusCode)
		}
	})

	t.Run("metrics over HTTPS with the token", func(t *testing.T) {
		fams, err := proctest.TryScrapeWith(trusting, gw.MetricsURL+"/metrics", gw.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got := sum(fams, "inference_objective_request_total"); got < 2 {
			t.Errorf("inference_objective_request_total = %v, want >= 2", got)
		}
		if _, err := proctest.TryScrapeWith(trusting, gw.MetricsURL+"/metrics", ""); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("scrape without a token: %v, want status 401", err)
		}
	})

	t.Run("doctor trusts the metrics listener with --ca-file", func(t *testing.T) {
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte(gw.Token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		url := gw.MetricsURL + "/metrics"
		// The pool of the untrusted replica has no ready endpoint, so doctor
		// fails overall; what matters here is that it got in.
		out, _ := exec.Command(binPath, "doctor", url, "--token-file", tokenFile, "--ca-file", caFile, "--interval", "100ms").CombinedOutput()
		if !strings.Contains(string(out), "✓ auth") || !strings.Contains(string(out), "✓ exposition") {
			t.Errorf("doctor --ca-file did not get through TLS and auth:\n%s", out)
		}
		out, err := exec.Command(binPath, "doctor", url, "--token-file", tokenFile, "--interval", "100ms").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--ca-file") {
			t.Errorf("doctor without the CA: err %v, want a failure that names --ca-file:\n%s", err, out)
		}
	})

	t.Run("plain HTTP to the TLS listeners fails", func(t *testing.T) {
		for _, base := range []string{gw.URL + "/v1/models", gw.MetricsURL + "/metrics"} {
			plainURL := "http://" + strings.TrimPrefix(base, "https://")
			resp, err := http.Get(plainURL)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), baseModel) || strings.Contains(string(body), "inference_") {
				t.Errorf("GET %s: %d %q, want a failure (400 from the TLS listener)", plainURL, resp.StatusCode, body)
			}
		}
	})

	t.Run("untrusted replica gives 502 or 503", func(t *testing.T) {
		start := time.Now()
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:     "untrusted-model",
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
			MaxTokens: openai.Int(4),
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("chat to a replica with an untrusted certificate: %v, want an API error", err)
		}
		if apiErr.StatusCode != http.StatusBadGateway && apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 502 or 503: %v", apiErr.StatusCode, apiErr)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("the failure took %v", d)
		}
		t.Logf("untrusted replica: %d %s", apiErr.StatusCode, apiErr.Message)
		// The replica is unusable because its certificate does not verify.
		if out := gw.Output(); !strings.Contains(out, "sim-untrusted") || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Errorf("gateway log does not report the untrusted certificate of sim-untrusted:\n%s", out)
		}
	})

	t.Run("rotated proxy certificate served on a new connection", func(t *testing.T) {
		host := strings.TrimPrefix(gw.URL, "https://")
		before := servedCert(t, host, ca.Pool())
		if want := readLeaf(t, proxyCert); before.SerialNumber.Cmp(want.SerialNumber) != 0 {
			t.Fatalf("served serial %v, want the configured certificate's %v", before.SerialNumber, want.SerialNumber)
		}
		next := ca.Server(t, "gateway-proxy-next")
		next.Write(t, dir, "proxy") // Same paths; written to a temporary file and renamed.
		proctest.Eventually(t, 15*time.Second, "the rotated certificate", func() error {
			got := servedCert(t, host, ca.Pool())
			if got.SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
				return fmt.Errorf("served serial %v, want %v", got.SerialNumber, next.Cert.SerialNumber)
			}
			return nil
		})
		// The new certificate serves requests, too.
		fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
		defer fresh.CloseIdleConnections()
		resp, err := fresh.Get(gw.URL + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v1/models after rotation: %d", resp.StatusCode)
		}
	})
}

// servedCert opens a new TLS connection to host and returns the leaf
// certificate it presents.
func servedCert(t *testing.T, host string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", host, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// readLeaf parses the first certificate of a PEM file.
func readLeaf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(path, strings.TrimSuffix(path, filepath.Ext(path))+".key")
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}
