package recovery

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// countingCounter counts panics by component; safe across the server's
// goroutines.
type countingCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingCounter) PanicRecovered(component string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[component]++
}

func (c *countingCounter) get(component string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[component]
}

func TestHandlerAnswersPanicBeforeTheResponse(t *testing.T) {
	var logs bytes.Buffer
	c := &countingCounter{}
	h := Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom: invalid label value")
	}), "proxy", c, slog.New(slog.NewTextHandler(&logs, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"type":"server_error"`) {
		t.Errorf("got %d %s, want a 500 OpenAI error", resp.StatusCode, body)
	}
	if got := c.get("proxy"); got != 1 {
		t.Errorf("counted %d, want 1", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("log lacks an ERROR line with the panic:\n%s", logs.String())
	}
}

func TestHandlerAbortsAfterTheResponseStarted(t *testing.T) {
	c := &countingCounter{}
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		_ = http.NewResponseController(w).Flush()
		panic("late")
	}), "proxy", c, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("read the whole body; want the connection cut short")
	}
	if got := c.get("proxy"); got != 1 {
		t.Errorf("counted %d, want 1", got)
	}
}

func TestHandlerLetsErrAbortHandlerThrough(t *testing.T) {
	c := &countingCounter{}
	h := Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}), "proxy", c, nil)
	defer func() {
		v := recover()
		if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", v)
		}
		if got := c.get("proxy"); got != 0 {
			t.Errorf("counted %d, want nothing", got)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}
