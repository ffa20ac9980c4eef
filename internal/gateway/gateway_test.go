package gateway

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/simulator"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

// testConfig returns a config for one in-process simulator.
func testConfig(t *testing.T, ctx context.Context) *config.Config {
	t.Helper()
	sc := simulator.DefaultConfig()
	sc.TimeScale = 100
	sim, err := simulator.New(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Serve(ctx, ln) }()
	t.Cleanup(func() { <-simDone })

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("secret-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Pools = []config.Pool{{Name: "p", Endpoints: []config.Endpoint{{Name: "sim", Address: ln.Addr().String()}}}}
	cfg.Metrics.Auth.TokenFile = tokenFile
	cfg.Shutdown.GracePeriod = config.Duration{Duration: 5 * time.Second}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestServeRoutesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t, ctx)
	gw, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx) }()

	base := "http://" + gw.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + gw.MetricsAddr().String() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Post(base+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"hi","max_tokens":3}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"completion_tokens":3`) {
		t.Fatalf("completion: %d %s", resp.StatusCode, body)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx was cancelled")
	}
}

func TestNewRejectsMissingTokenFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t, ctx)
	cfg.Metrics.Auth.TokenFile = filepath.Join(t.TempDir(), "missing")
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "metrics auth") {
		t.Fatalf("New with a missing token file: %v, want a metrics auth error", err)
	}
}

// tWriter sends log lines to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
