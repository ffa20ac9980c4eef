package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// binPath is the infergate binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "infergate-integration-")
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
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running infergate process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer // stdout and stderr, interleaved
	done chan struct{}
	err  error
}

// startProc runs infergate with args and waits until a line of its output
// matches ready, returning the submatches.
func startProc(t *testing.T, ready *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start infergate %v: %v", args, err)
	}
	p := &proc{t: t, cmd: cmd, done: make(chan struct{})}
	matched := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
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
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(10 * time.Second) })
	select {
	case m := <-matched:
		return p, m
	case <-p.done:
		t.Fatalf("infergate %v exited before ready (%v):\n%s", args, p.err, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("infergate %v not ready after 60s:\n%s", args, p.output())
	}
	return nil, nil
}

// output returns everything the process printed so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// wait waits up to d for the process to exit and returns its exit error.
func (p *proc) wait(d time.Duration) (error, bool) {
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(d):
		return nil, false
	}
}

// stop terminates the process: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	p.signal(syscall.SIGTERM)
	if _, ok := p.wait(grace); !ok {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// startSim starts one simulator replica on a free loopback port and returns
// its process and address.
func startSim(t *testing.T, name string, extra ...string) (*proc, string) {
	t.Helper()
	args := append([]string{"sim", "--listen", "127.0.0.1:0", "--name", name, "--log-level", "warn"}, extra...)
	p, m := startProc(t, listeningRE, args...)
	return p, m[1]
}

var servingRE = regexp.MustCompile(`gateway serving.*proxy=(\S+) metrics=(\S+)`)

// gatewayProc is a running gateway.
type gatewayProc struct {
	*proc
	URL        string // http://proxy
	MetricsURL string // http://metrics
	Token      string
}

// startGateway writes cfg (YAML, without listeners or auth) to a file, adds
// loopback listeners and a token file, and starts `infergate serve`.
func startGateway(t *testing.T, cfg string) *gatewayProc {
	t.Helper()
	dir := t.TempDir()
	token := "it-token-" + strings.Repeat("x", 24)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := fmt.Sprintf("listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nmetrics:\n  auth:\n    tokenFile: %s\n%s", tokenFile, cfg)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	p, m := startProc(t, servingRE, "serve", "--config", path, "--log-level", "info")
	return &gatewayProc{proc: p, URL: "http://" + m[1], MetricsURL: "http://" + m[2], Token: token}
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
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// sum adds the values of a counter or gauge family (all series), 0 when absent.
func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testContext returns a context bounded for one test.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
