package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fastConfig returns the default configuration a million times faster than
// real time.
func fastConfig() Config {
	cfg := DefaultConfig()
	cfg.Name = "sim-test"
	cfg.TimeScale = 1e6
	return cfg
}

// testServer is a Server serving on a loopback port.
type testServer struct {
	srv *Server
	url string
	// served receives Serve's result.
	served chan error
	cancel context.CancelFunc
}

// startServer serves cfg on 127.0.0.1:0 until the test ends and checks that
// Serve then returns nil.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, url: "http://" + ln.Addr().String(), served: make(chan error, 1), cancel: cancel}
	go func() { ts.served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := ts.wait(t); err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ts
}

// wait returns Serve's result (once; later calls return nil).
func (ts *testServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case err, ok := <-ts.served:
		if ok {
			close(ts.served)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// post sends body to path and returns the status, headers and response body.
func (ts *testServer) post(t *testing.T, path, body string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(ts.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// get fetches path.
func (ts *testServer) get(t *testing.T, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(ts.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// scrape parses /metrics as the gateway's scraper does.
func (ts *testServer) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	_, _, data := ts.get(t, "/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, data)
	}
	return families
}

// value returns the value of the first series of a gauge or counter family
// whose labels include match, or -1 when there is none.
func value(families map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		labels := make(map[string]string)
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range match {
			if labels[k] != v {
				ok = false
			}
		}
		if !ok {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// pollMetrics scrapes until cond holds or the deadline passes.
func (ts *testServer) pollMetrics(t *testing.T, what string, cond func(map[string]*dto.MetricFamily) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if cond(ts.scrape(t)) {
			return
		}
		if time.Now().After(deadline) {
			_, _, raw := ts.get(t, "/metrics")
			t.Fatalf("timed out waiting for %s; metrics:\n%s", what, raw)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a timing assumption
	}
}

// readEvents reads an SSE body and returns the data payloads. It fails on
// any line that is not "data: …" followed by a blank line.
func readEvents(t *testing.T, body io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		payload, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("SSE line %q does not start with \"data: \"", line)
		}
		events = append(events, payload)
		if !sc.Scan() || sc.Text() != "" {
			t.Fatalf("SSE event %q is not followed by a blank line", payload)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// errorBody is an OpenAI error, with param and code kept raw to tell null
// from absent.
type errorBody struct {
	Error struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Param   json.RawMessage `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

// decodeError checks that data is an OpenAI-shaped error and returns its
// code.
func decodeError(t *testing.T, data []byte) (typ, code string) {
	t.Helper()
	var keys map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatalf("error body %q: %v", data, err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := keys["error"][k]; !ok {
			t.Errorf("error body %s lacks error.%s", data, k)
		}
	}
	var e errorBody
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Message == "" {
		t.Errorf("error body %s has an empty message", data)
	}
	_ = json.Unmarshal(e.Error.Code, &code)
	return e.Error.Type, code
}

func TestServeReturnsOnCancel(t *testing.T) {
	srv, err := New(fastConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), ln2); err == nil {
		t.Error("second Serve succeeded, want an error")
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{name: "default is valid", change: func(*Config) {}},
		{
			name: "every problem is reported",
			change: func(c *Config) {
				c.Name, c.Engine, c.TimeScale, c.ErrorRate = "", "tgi", 0, 2
				c.Profile.BlockSize = 0
			},
			want: []string{"name", "engine", "time scale", "error rate", "block size"},
		},
		{
			name: "adapters",
			change: func(c *Config) {
				c.LoRAs = []string{"a", "a", c.Model, ""}
				c.Profile.MaxLoRAs = 1
				c.PreloadedLoRAs = []string{"x", "y"}
			},
			want: []string{`"a" listed twice`, "base model's name", "must not be empty", "exceed max loras"},
		},
		{
			name:   "kv cache smaller than the context",
			change: func(c *Config) { c.Profile.NumGPUBlocks = 10 },
			want:   []string{"cannot hold max model len"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			_, err := New(cfg, nil)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestHealthAndModels(t *testing.T) {
	cfg := fastConfig()
	cfg.LoRAs = []string{"sql-lora", "chat-lora"}
	cfg.PreloadedLoRAs = []string{"chat-lora", "extra-lora"}
	ts := startServer(t, cfg)

	status, header, _ := ts.get(t, "/health")
	if status != http.StatusOK || header.Get("x-inference-pod") != "sim-test" {
		t.Errorf("/health: status %d, x-inference-pod %q", status, header.Get("x-inference-pod"))
	}

	status, header, data := ts.get(t, "/v1/models")
	if status != http.StatusOK || header.Get("x-inference-pod") != "sim-test" {
		t.Fatalf("/v1/models: status %d, x-inference-pod %q", status, header.Get("x-inference-pod"))
	}
	var got struct {
		Object string `json:"object"`
		Data   []struct {
			ID          string  `json:"id"`
			Object      string  `json:"object"`
			OwnedBy     string  `json:"owned_by"`
			Root        string  `json:"root"`
			Parent      *string `json:"parent"`
			MaxModelLen int     `json:"max_model_len"`
			Created     int64   `json:"created"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	type card struct{ ID, Object, Parent string }
	var cards []card
	for _, d := range got.Data {
		parent := "<null>"
		if d.Parent != nil {
			parent = *d.Parent
		}
		cards = append(cards, card{d.ID, d.Object, parent})
		if d.MaxModelLen != cfg.Profile.MaxModelLen || d.Created == 0 || d.OwnedBy == "" || d.Root == "" {
			t.Errorf("model %s: max_model_len %d created %d owned_by %q root %q", d.ID, d.MaxModelLen, d.Created, d.OwnedBy, d.Root)
		}
	}
	base := cfg.Model
	want := []card{
		{base, "model", "<null>"},
		{"sql-lora", "model", base},
		{"chat-lora", "model", base},
		{"extra-lora", "model", base},
	}
	if got.Object != "list" {
		t.Errorf("object = %q, want list", got.Object)
	}
	if diff := cmp.Diff(want, cards); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	cfg := fastConfig()
	cfg.LoRAs = []string{"sql-lora"}
	ts := startServer(t, cfg)
	tests := []struct {
		name       string
		path, body string
		wantStatus int
		wantType   string
		wantCode   string
	}{
		{name: "unknown model", path: "/v1/completions", body: `{"model":"nope","prompt":"hi"}`,
			wantStatus: 404, wantType: "invalid_request_error", wantCode: "model_not_found"},
		{name: "unknown model in chat", path: "/v1/chat/completions",
			body:       `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 404, wantType: "invalid_request_error", wantCode: "model_not_found"},
		{name: "bad json", path: "/v1/completions", body: `{"model":`,
			wantStatus: 400, wantType: "invalid_request_error", wantCode: "invalid_request"},
		{name: "wrong type", path: "/v1/completions", body: `{"model":"sql-lora","prompt":"hi","max_tokens":"3"}`,
			wantStatus: 400, wantType: "invalid_request_error", wantCode: "invalid_request"},
		{name: "missing messages", path: "/v1/chat/completions", body: `{"model":"sql-lora"}`,
			wantStatus: 400, wantType: "invalid_request_error", wantCode: "invalid_request"},
		{name: "context too long", path: "/v1/completions",
			body:       `{"model":"sql-lora","prompt":"hi","max_tokens":131072}`,
			wantStatus: 400, wantType: "invalid_request_error", wantCode: "context_length_exceeded"},
		{name: "several choices", path: "/v1/completions", body: `{"model":"sql-lora","prompt":"hi","n":2}`,
			wantStatus: 400, wantType: "invalid_request_error", wantCode: "invalid_request"},
		{name: "body too large", path: "/v1/completions",
			body:       `{"model":"sql-lora","prompt":"` + strings.Repeat("x", maxBodyBytes) + `"}`,
			wantStatus: 413, wantType: "invalid_request_error", wantCode: "request_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, header, data := ts.post(t, tc.path, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, tc.wantStatus, data)
			}
			if header.Get("x-inference-pod") != "sim-test" {
				t.Errorf("x-inference-pod = %q", header.Get("x-inference-pod"))
			}
			typ, code := decodeError(t, data)
			if typ != tc.wantType || code != tc.wantCode {
				t.Errorf("error type %q code %q, want %q and %q", typ, code, tc.wantType, tc.wantCode)
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		status, _, _ := ts.get(t, "/v1/completions")
		if status != http.StatusMethodNotAllowed {
			t.Errorf("GET /v1/completions: status %d, want 405", status)
		}
	})
}

// errorsIsTimeout reports whether err is a client timeout or cancellation.
func errorsIsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func TestRunStopsEngineUnderRequests(t *testing.T) {
	cfg := fastConfig()
	cfg.TimeScale = 1 // real time: the requests outlive the engine
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()

	body := `{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"go on","max_tokens":100000,"stream":true}`
	resp, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first line %q, %v", line, err)
	}
	if line, err := rd.ReadString('\n'); err != nil || line != "\n" {
		t.Fatalf("second line %q, %v", line, err)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v", err)
	}
	events := readEvents(t, rd)
	if len(events) < 2 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream after the engine stopped ended with %q", events[max(0, len(events)-2):])
	}
	if _, code := decodeError(t, []byte(events[len(events)-2])); code != "engine_stopped" {
		t.Errorf("last event before [DONE] has code %q, want engine_stopped", code)
	}

	status, _, data := func() (int, http.Header, []byte) {
		resp, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(completionBody))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, data
	}()
	if status != http.StatusServiceUnavailable {
		t.Errorf("request after the engine stopped: status %d, want 503", status)
	}
	if _, code := decodeError(t, data); code != "engine_stopped" {
		t.Errorf("code %q, want engine_stopped", code)
	}
	if err := srv.Run(context.Background()); err == nil {
		t.Error("second Run succeeded, want an error")
	}
}
