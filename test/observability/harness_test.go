package observability

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

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
	// goleak checks that every process reader and HTTP connection the tests
	// started is gone.
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		cleanup()
		os.Exit(code)
	}))
}

// requireTool returns the path of an external program the test needs. When
// it is missing the test fails under CI=true (CI must install it: `make
// test` does) and is skipped otherwise.
func requireTool(t *testing.T, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found in PATH (CI=true, so this fails instead of skipping); %s", name, hint)
	}
	t.Skipf("%s not found in PATH; %s", name, hint)
	return ""
}

// requirePrometheus returns the paths of Debian's prometheus and promtool.
func requirePrometheus(t *testing.T) (prometheus, promtool string) {
	t.Helper()
	const hint = "run hack/ensure-prometheus.sh (or `make tools`) to install Debian's prometheus package"
	return requireTool(t, "prometheus", hint), requireTool(t, "promtool", hint)
}

// proc is a running child process with its output captured.
type proc = proctest.Proc

// startProc runs bin with args, capturing its output. When ready is not nil
// it waits until an output line matches it and returns the submatches. The
// process is stopped at the end of the test.
func startProc(t *testing.T, bin string, ready *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	return proctest.Start(t, bin, ready, args...)
}

// startSim starts one simulator replica on a free loopback port and returns
// its address.
func startSim(t *testing.T, name string, extra ...string) string {
	t.Helper()
	_, addr := proctest.StartSim(t, binPath, "127.0.0.1:0", name, extra...)
	return addr
}

// gateway is a running `infergate serve`.
type gateway struct {
	*proc
	URL         string // http://<proxy address>
	MetricsAddr string // host:port of the metrics listener
	Token       string
	TokenFile   string
}

// startGateway writes cfg (YAML without listeners or auth) to a file, adds
// loopback listeners and a metrics token file, and starts `infergate serve`.
func startGateway(t *testing.T, cfg string, metricsKeys ...string) *gateway {
	t.Helper()
	dir := t.TempDir()
	token := "obs-token-" + strings.Repeat("k", 24)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// metricsKeys are more lines of the metrics section, such as
	// "  nameSets: [llm-d]\n".
	full := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nmetrics:\n  auth:\n    tokenFile: %s\n%s%s", tokenFile, strings.Join(metricsKeys, ""), cfg)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := proctest.StartGateway(t, binPath, "--config", path, "--log-level", "info")
	return &gateway{proc: gw.Proc, URL: gw.URL, MetricsAddr: strings.TrimPrefix(gw.MetricsURL, "http://"), Token: token, TokenFile: tokenFile}
}

// freePort returns a loopback TCP port that was free a moment ago. A program
// that cannot bind it fails to start, and the caller retries.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newClient returns an HTTP client whose idle connections are closed when
// the test ends (goleak would report their goroutines otherwise).
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// eventually polls cond until it returns nil or d passes, then fails the
// test with cond's last error.
func eventually(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	proctest.Eventually(t, d, what, cond)
}

// runCmd runs a program to completion with stdin and returns its combined
// output and exit code (-1 if it could not run).
func runCmd(t *testing.T, stdin []byte, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		t.Fatalf("run %s %v: %v", name, args, err)
	}
	return string(out), 0
}
