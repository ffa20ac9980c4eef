package observability

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// binPath is the infergate binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "infergate-observability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "infergate")
	build := exec.Command("go", "build", "-o", binPath, "../../cmd/infergate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building infergate:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// goleak checks that every process reader and HTTP connection the tests
	// started is gone.
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
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
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer // stdout and stderr, interleaved
	done chan struct{}
	err  error
}

// startProc runs bin with args, capturing its output. When ready is not nil
// it waits until an output line matches it and returns the submatches. The
// process is stopped at the end of the test.
func startProc(t *testing.T, bin string, ready *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %v: %v", bin, args, err)
	}
	p := &proc{name: filepath.Base(bin), cmd: cmd, done: make(chan struct{})}
	matched := make(chan []string, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := ready == nil
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			p.mu.Unlock()
			if !sent {
				if m := ready.FindStringSubmatch(line); m != nil {
					matched <- m
					sent = true
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-readerDone
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(10 * time.Second) })
	if ready == nil {
		return p, nil
	}
	select {
	case m := <-matched:
		return p, m
	case <-p.done:
		t.Fatalf("%s %v exited before ready (%v):\n%s", p.name, args, p.err, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s %v not ready after 60s:\n%s", p.name, args, p.output())
	}
	return nil, nil
}

// output returns everything the process printed so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop terminates the process: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// startSim starts one simulator replica on a free loopback port and returns
// its address.
func startSim(t *testing.T, name string, extra ...string) string {
	t.Helper()
	args := append([]string{"sim", "--listen", "127.0.0.1:0", "--name", name, "--log-level", "warn"}, extra...)
	_, m := startProc(t, binPath, listeningRE, args...)
	return m[1]
}

var servingRE = regexp.MustCompile(`gateway serving.*proxy=(\S+) metrics=(\S+)`)

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
func startGateway(t *testing.T, cfg string) *gateway {
	t.Helper()
	dir := t.TempDir()
	token := "obs-token-" + strings.Repeat("k", 24)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nmetrics:\n  auth:\n    tokenFile: %s\n%s", tokenFile, cfg)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	p, m := startProc(t, binPath, servingRE, "serve", "--config", path, "--log-level", "info")
	return &gateway{proc: p, URL: "http://" + m[1], MetricsAddr: m[2], Token: token, TokenFile: tokenFile}
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

// eventually polls cond every 100ms until it returns nil or d passes, then
// fails the test with cond's last error.
func eventually(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
