//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/proctest"
)

// Black-box tests of the hostile-client limits (issue 9, items 4 to 6):
// each drives a real gateway process over loopback with raw connections.

// clientConn is a raw HTTP/1.1 client connection to the gateway.
type clientConn struct {
	net.Conn
	rd *bufio.Reader
}

// dialGateway opens a raw connection to the proxy listener at url; it is
// closed in the test's cleanup.
func dialGateway(t *testing.T, url string, d *net.Dialer) *clientConn {
	t.Helper()
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &clientConn{Conn: c, rd: bufio.NewReader(c)}
}

// send writes a request with body (Content-Length set from it unless
// declared is >= 0).
func (c *clientConn) send(t *testing.T, method, path, body string, declared int) {
	t.Helper()
	if declared < 0 {
		declared = len(body)
	}
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		method, path, declared, body); err != nil {
		t.Fatal(err)
	}
}

// response reads one response (body included) within d.
func (c *clientConn) response(d time.Duration) (*http.Response, string, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(c.rd, nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// closedByPeer reports whether the gateway closed the connection (EOF or
// reset within d, with no further byte).
func (c *clientConn) closedByPeer(d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := c.rd.ReadByte()
	switch {
	case err == nil:
		return fmt.Errorf("unexpected byte %q", b)
	case err == io.EOF || errors.Is(err, syscall.ECONNRESET):
		return nil
	default:
		return err
	}
}

// vmRSS returns the resident set size of process pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// wantOpenAIError checks that body is an OpenAI error object.
func wantOpenAIError(t *testing.T, body string) {
	t.Helper()
	if !strings.HasPrefix(body, `{"error":{"message":`) {
		t.Errorf("body is not an OpenAI error: %.200s", body)
	}
}

func TestSlowBodiesAreNotPreallocatedAndTimeOut(t *testing.T) {
	const (
		conns    = 40
		declared = 16 << 20
		timeout  = 2 * time.Second
	)
	f := startFleet(t, 1, func(int) []string { return []string{"--time-scale", "50"} },
		fmt.Sprintf("limits:\n  bodyReadTimeout: %s\n", timeout))
	pid := f.gw.Pid()
	baseRSS := vmRSS(t, pid)
	baseHeap := sum(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "go_memstats_heap_alloc_bytes")

	// Each connection declares 16 MB and then trickles a byte every 100 ms.
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	defer func() { close(stop); trickle.Wait() }()
	type result struct {
		status  int
		body    string
		header  http.Header
		err     error
		elapsed time.Duration
		closed  error
	}
	results := make(chan result, conns)
	start := time.Now()
	for range conns {
		c := dialGateway(t, f.gw.URL, nil)
		c.send(t, "POST", "/v1/chat/completions", `{"model":`, declared)
		trickle.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		})
		go func() {
			resp, body, err := c.response(timeout + 20*time.Second)
			r := result{err: err, body: body, elapsed: time.Since(start)}
			if err == nil {
				r.status, r.header = resp.StatusCode, resp.Header
				r.closed = c.closedByPeer(5 * time.Second)
			}
			results <- r
		}()
	}
	// Watch memory until every connection has its answer.
	var peakRSS int64
	peakHeap := 0.0
	got := 0
	for got < conns {
		select {
		case r := <-results:
			got++
			if r.err != nil {
				t.Errorf("slow body: no answer: %v (after %v)", r.err, r.elapsed)
				continue
			}
			if r.status != http.StatusRequestTimeout {
				t.Errorf("slow body: status %d, want 408: %.200s", r.status, r.body)
			}
			wantOpenAIError(t, r.body)
			if r.closed != nil {
				t.Errorf("connection not closed after the 408: %v", r.closed)
			}
			if r.elapsed > timeout+10*time.Second {
				t.Errorf("408 after %v, body read timeout %v", r.elapsed, timeout)
			}
		case <-time.After(20 * time.Millisecond): // sampling period
		}
		peakRSS = max(peakRSS, vmRSS(t, pid))
		if fams, err := proctest.TryScrape(f.gw.MetricsURL+"/metrics", f.gw.Token); err == nil {
			peakHeap = max(peakHeap, sum(fams, "go_memstats_heap_alloc_bytes"))
		}
	}
	// 40 × 16 MB would be 640 MB; bodies that grow as bytes arrive hold a
	// few KiB each.
	const bound = 64 << 20
	t.Logf("RSS %d MiB -> peak %d MiB; heap %.0f MiB -> peak %.0f MiB", baseRSS>>20, peakRSS>>20, baseHeap/(1<<20), peakHeap/(1<<20))
	if grew := peakRSS - baseRSS; grew > bound {
		t.Errorf("gateway RSS grew by %d MiB for %d slow bodies", grew>>20, conns)
	}
	if grew := peakHeap - baseHeap; grew > bound {
		t.Errorf("gateway heap grew by %.0f MiB for %d slow bodies", grew/(1<<20), conns)
	}
}

func TestConnectionLimitPerAddress(t *testing.T) {
	const limit = 8
	// Flow control off: every busy request must reach the hung replica (in
	// queue mode the later ones would wait in the gateway, as running
	// requests the test could not count).
	f := startFleet(t, 1, func(int) []string { return []string{"--hang"} },
		fmt.Sprintf("limits:\n  maxConnsPerAddress: %d\nflowControl:\n  mode: \"off\"\n", limit))
	models := func(c *clientConn) (*http.Response, string) {
		t.Helper()
		c.send(t, "GET", "/v1/models", "", 0)
		resp, body, err := c.response(10 * time.Second)
		if err != nil {
			t.Fatalf("GET /v1/models: %v", err)
		}
		return resp, body
	}
	// limit idle keep-alive connections.
	idle := make([]*clientConn, limit)
	for i := range idle {
		idle[i] = dialGateway(t, f.gw.URL, nil)
		if resp, body := models(idle[i]); resp.StatusCode != http.StatusOK {
			t.Fatalf("connection %d: status %d: %s", i, resp.StatusCode, body)
		}
	}
	// One more is served: an idle one is evicted to make room.
	extra := dialGateway(t, f.gw.URL, nil)
	if resp, body := models(extra); resp.StatusCode != http.StatusOK {
		t.Fatalf("connection past the limit with idle ones open: status %d: %s", resp.StatusCode, body)
	}
	var kept []*clientConn
	evicted := 0
	for _, c := range idle {
		if c.closedByPeer(200*time.Millisecond) == nil {
			evicted++
		} else {
			kept = append(kept, c)
		}
	}
	if evicted != 1 {
		t.Fatalf("%d idle connections closed, want 1", evicted)
	}
	// Make all limit connections busy (the replica never answers).
	busy := append(kept, extra)
	for _, c := range busy {
		c.send(t, "POST", "/v1/chat/completions", chatBody(baseModel, "s", "q", 4, false), -1)
	}
	eventually(t, 10*time.Second, "the busy requests to be in flight", func() bool {
		return sum(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "inference_objective_running_requests") == limit
	})
	// Now a new connection has nobody to evict: 503 and closed.
	over := dialGateway(t, f.gw.URL, nil)
	resp, body := models(over)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connection past the limit, all busy: status %d, want 503: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get(exchange.HeaderDroppedReason); got != exchange.DroppedSaturated {
		t.Errorf("%s = %q, want %q", exchange.HeaderDroppedReason, got, exchange.DroppedSaturated)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	wantOpenAIError(t, body)
	if err := over.closedByPeer(5 * time.Second); err != nil {
		t.Errorf("over-limit connection not closed: %v", err)
	}
}

func TestInFlightCap(t *testing.T) {
	const limit = 4
	f := startFleet(t, 1, func(int) []string { return []string{"--hang"} },
		fmt.Sprintf("limits:\n  maxInFlight: %d\n", limit))
	for range limit {
		c := dialGateway(t, f.gw.URL, nil)
		c.send(t, "POST", "/v1/chat/completions", chatBody(baseModel, "s", "q", 4, false), -1)
	}
	eventually(t, 10*time.Second, "the capped requests to be in flight", func() bool {
		return sum(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "inference_objective_running_requests") == limit
	})
	c := dialGateway(t, f.gw.URL, nil)
	c.send(t, "POST", "/v1/chat/completions", chatBody(baseModel, "s", "q", 4, false), -1)
	resp, body, err := c.response(10 * time.Second)
	if err != nil {
		t.Fatalf("request past the in-flight cap: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("request past the in-flight cap: status %d, want 503: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get(exchange.HeaderDroppedReason); got != exchange.DroppedSaturated {
		t.Errorf("%s = %q, want %q", exchange.HeaderDroppedReason, got, exchange.DroppedSaturated)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	wantOpenAIError(t, body)
}

// stallingReplica is a test-owned model server that looks healthy to the
// gateway's scraper but answers every inference request 503 with a body it
// never finishes (until stall passes or the test ends).
type stallingReplica struct {
	addr string
	mu   sync.Mutex
	hits int
}

func startStallingReplica(t *testing.T, stall time.Duration) *stallingReplica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallingReplica{addr: ln.Addr().String()}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"} {
			fmt.Fprintf(w, "# TYPE %s gauge\n%s{model_name=%q} 0\n", name, name, baseModel)
		}
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model"}]}`, baseModel)
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.mu.Unlock()
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":`))
		http.NewResponseController(w).Flush()
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
		case <-stop:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(stop); srv.Close(); <-done })
	return s
}

func (s *stallingReplica) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func TestRetryDoesNotWaitForAStalledErrorBody(t *testing.T) {
	const stall = 30 * time.Second
	bad := startStallingReplica(t, stall)
	_, simAddr := startSim(t, "good", "--time-scale", "50")
	gw := startGateway(t, poolYAML(bad.addr, simAddr))
	// Until the stalling replica has failed a few requests (the scheduler
	// may prefer either), every request is served by the simulator, fast.
	for i := 0; bad.requests() < 3; i++ {
		if i == 60 {
			t.Fatalf("the stalling replica got %d of %d requests; cannot exercise the retry", bad.requests(), i)
		}
		start := time.Now()
		pod := servedBy(t, gw.URL+"/v1/completions", fmt.Sprintf(`{"model":%q,"prompt":"p%d","max_tokens":2}`, baseModel, i), nil)
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("request %d took %v (replica stall %v)", i, took, stall)
		}
		if pod != "good" {
			t.Fatalf("request %d served by %q, want the simulator", i, pod)
		}
	}
}

func TestStalledStreamingClientFreesTheReplica(t *testing.T) {
	_, simAddr := startSim(t, "sim", "--time-scale", "1000")
	gw := startGateway(t, poolYAML(simAddr)+"limits:\n  clientStallTimeout: 1s\n")
	// A client with a tiny receive buffer that reads the headers and then
	// stops reading. The answer (100,000 tokens, ~20 MB of SSE) is far more
	// than the socket buffers between it and the replica hold.
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c := dialGateway(t, gw.URL, d)
	c.send(t, "POST", "/v1/chat/completions", chatBody(baseModel, "s", "tell a long story", 100000, true), -1)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(c.rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Stop reading; the connection stays open.
	simRunning := func() float64 {
		fams, err := proctest.TryScrape("http://"+simAddr+"/metrics", "")
		if err != nil {
			return -1
		}
		return sum(fams, "vllm:num_requests_running")
	}
	gwMetrics := func() (running, clientClosed float64) {
		fams := scrape(t, gw.MetricsURL+"/metrics", gw.Token)
		return sum(fams, "inference_objective_running_requests"),
			labelSum(fams, "inference_objective_request_error_total", "error_code", "ClientClosed")
	}
	eventually(t, 8*time.Second, "the stalled stream to be cancelled upstream", func() bool {
		running, closed := gwMetrics()
		return running == 0 && closed == 1 && simRunning() == 0
	})
	if bytes.Contains([]byte(gw.Output()), []byte("panic")) {
		t.Errorf("gateway logged a panic:\n%s", gw.Output())
	}
}
