package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

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

// proc is a running infergate process.
type proc = proctest.Proc

// startProc runs infergate with args and waits until a line of its output
// matches ready, returning the submatches.
func startProc(t *testing.T, ready *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	return proctest.Start(t, binPath, ready, args...)
}

// startSim starts one simulator replica on a free loopback port and returns
// its process and address.
func startSim(t *testing.T, name string, extra ...string) (*proc, string) {
	t.Helper()
	return proctest.StartSim(t, binPath, "127.0.0.1:0", name, extra...)
}

// gatewayProc is a running gateway.
type gatewayProc struct {
	*proc
	URL        string // http://proxy
	MetricsURL string // http://metrics
	Token      string
}

// startGateway writes cfg (YAML, without listeners or auth; a metrics
// section may set other metrics keys) to a file, adds loopback listeners and
// a token file, and starts `infergate serve`.
func startGateway(t *testing.T, cfg string) *gatewayProc {
	t.Helper()
	dir := t.TempDir()
	token := "it-token-" + strings.Repeat("x", 24)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A metrics section in cfg gets the token file added to it; otherwise
	// one is added.
	metrics := fmt.Sprintf("metrics:\n  auth:\n    tokenFile: %s\n", tokenFile)
	if strings.HasPrefix(cfg, "metrics:\n") || strings.Contains(cfg, "\nmetrics:\n") {
		cfg = strings.Replace("\n"+cfg, "\nmetrics:\n", "\n"+metrics, 1)
		metrics = ""
	}
	full := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\n%s%s", metrics, cfg)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, binPath, "--config", path, "--log-level", "info")
	return &gatewayProc{proc: gw.Proc, URL: gw.URL, MetricsURL: gw.MetricsURL, Token: token}
}

// poolYAML renders a pools section with one pool of the given addresses.
func poolYAML(addrs ...string) string {
	var b strings.Builder
	b.WriteString("pools:\n- name: test\n  endpoints:\n")
	for i, a := range addrs {
		fmt.Fprintf(&b, "  - name: sim-%d\n    address: %s\n", i, a)
	}
	return b.String()
}

// scrape fetches and parses a Prometheus exposition.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	return proctest.Scrape(t, url, token)
}

// sum adds the values of a counter or gauge family (all series), 0 when absent.
func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	return proctest.Sum(fams, name)
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	proctest.Eventually(t, d, what, func() error {
		if cond() {
			return nil
		}
		return errors.New("not yet")
	})
}

// testContext returns a context bounded for one test.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
