package simulator

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

const completionBody = `{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"hello","max_tokens":2}`

func TestErrorRate(t *testing.T) {
	statuses := func(rate float64, seed int64) string {
		cfg := fastConfig()
		cfg.ErrorRate, cfg.Seed = rate, seed
		ts := startServer(t, cfg)
		var b strings.Builder
		for range 40 {
			status, _, data := ts.post(t, "/v1/completions", completionBody)
			switch status {
			case http.StatusOK:
				b.WriteByte('.')
			case http.StatusInternalServerError:
				if typ, code := decodeError(t, data); typ != "server_error" || code != "internal_error" {
					t.Errorf("injected error type %q code %q", typ, code)
				}
				b.WriteByte('E')
			default:
				t.Fatalf("status %d: %s", status, data)
			}
		}
		return b.String()
	}
	tests := []struct {
		name string
		rate float64
		want func(string) bool
	}{
		{name: "never", rate: 0, want: func(s string) bool { return !strings.Contains(s, "E") }},
		{name: "always", rate: 1, want: func(s string) bool { return !strings.Contains(s, ".") }},
		{name: "half", rate: 0.5, want: func(s string) bool {
			n := strings.Count(s, "E")
			return n >= 8 && n <= 32
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := statuses(tc.rate, 42)
			if !tc.want(got) {
				t.Errorf("statuses %s do not match error rate %v", got, tc.rate)
			}
			if again := statuses(tc.rate, 42); again != got {
				t.Errorf("same seed gave %s then %s", got, again)
			}
		})
	}
}

func TestAddedLatency(t *testing.T) {
	tests := []struct {
		name      string
		timeScale float64
		wantOK    bool
	}{
		// An hour of added latency is 3.6 ms at this scale.
		{name: "scaled", timeScale: 1e6, wantOK: true},
		// In real time the hour outlasts the client's patience.
		{name: "real time", timeScale: 1, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig()
			cfg.TimeScale = tc.timeScale
			cfg.AddedLatency = time.Hour
			ts := startServer(t, cfg)
			client := &http.Client{Timeout: 2 * time.Second}
			resp, err := client.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(completionBody))
			if err == nil {
				resp.Body.Close()
			}
			if gotOK := err == nil && resp.StatusCode == http.StatusOK; gotOK != tc.wantOK {
				t.Fatalf("answered: %v (err %v), want %v", gotOK, err, tc.wantOK)
			}
			if !tc.wantOK && !errorsIsTimeout(err) {
				t.Errorf("err = %v, want a client timeout", err)
			}
			if status, _, _ := ts.get(t, "/health"); status != http.StatusOK {
				t.Errorf("/health = %d while a request is delayed", status)
			}
		})
	}
}

// notifyListener signals every accepted connection.
type notifyListener struct {
	net.Listener
	accepted chan struct{}
}

func (l *notifyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		select {
		case l.accepted <- struct{}{}:
		default:
		}
	}
	return c, err
}

func TestHang(t *testing.T) {
	cfg := fastConfig()
	cfg.Hang = true
	cfg.ShutdownTimeout = time.Minute
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &notifyListener{Listener: inner, accepted: make(chan struct{}, 1)}
	url := "http://" + inner.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	// A client that gives up gets no answer.
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := client.Post(url+"/v1/completions", "application/json", strings.NewReader(completionBody)); err == nil {
		resp.Body.Close()
		t.Fatalf("hung request answered %d", resp.StatusCode)
	} else if !errorsIsTimeout(err) {
		t.Fatalf("err = %v, want a client timeout", err)
	}
	<-ln.accepted

	// A request still hanging at shutdown is cut off without waiting for the
	// shutdown timeout.
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(completionBody))
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		answered <- err
	}()
	<-ln.accepted
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve waited for the hung request")
	}
	if err := <-answered; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("hung request at shutdown: %v, want a connection error", err)
	}
}

func TestExitAfter(t *testing.T) {
	cfg := fastConfig()
	cfg.ExitAfter = 3
	ts := startServer(t, cfg)
	for i := range 3 {
		select {
		case <-ts.srv.Done():
			t.Fatalf("Done closed after %d requests", i)
		default:
		}
		if status, _, data := ts.post(t, "/v1/completions", completionBody); status != http.StatusOK {
			t.Fatalf("status %d: %s", status, data)
		}
	}
	select {
	case <-ts.srv.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after 3 requests")
	}
	if err := ts.wait(t); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

func TestClientDisconnectFreesEngine(t *testing.T) {
	cfg := fastConfig()
	cfg.TimeScale = 1 // real time: these requests would run for minutes
	cfg.Profile.MaxNumSeqs = 1
	ts := startServer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 3 {
		body := fmt.Sprintf(`{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"request %d","max_tokens":100000,"stream":%v}`, i, i%2 == 0)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/v1/completions", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				// Read until the test cancels the request.
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	ts.pollMetrics(t, "one running and two waiting requests", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "vllm:num_requests_running", nil) == 1 && value(f, "vllm:num_requests_waiting", nil) == 2 &&
			value(f, "vllm:kv_cache_usage_perc", nil) > 0
	})
	cancel()
	wg.Wait()
	ts.pollMetrics(t, "the engine to drop the aborted requests", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "vllm:num_requests_running", nil) == 0 && value(f, "vllm:num_requests_waiting", nil) == 0 &&
			value(f, "vllm:kv_cache_usage_perc", nil) == 0 &&
			value(f, "vllm:request_success_total", map[string]string{"finished_reason": "abort"}) == 3
	})
}
