package simulator

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUnavailableBursts(t *testing.T) {
	cfg := fastConfig()
	cfg.UnavailableEvery, cfg.UnavailableFor = time.Hour, time.Hour-time.Nanosecond // inside the burst now
	ts := startServer(t, cfg)
	status, _, data := ts.post(t, "/v1/completions", completionBody)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d inside a burst, want 503: %s", status, data)
	}
	if typ, code := decodeError(t, data); typ != "server_error" || code != "service_unavailable" {
		t.Errorf("burst error type %q code %q", typ, code)
	}
	bad := fastConfig()
	bad.UnavailableEvery, bad.UnavailableFor = time.Second, 2*time.Second
	if _, err := New(bad, nil); err == nil {
		t.Error("a burst longer than its period was accepted")
	}
}

func TestStallPausesStreamsOnce(t *testing.T) {
	cfg := fastConfig()
	cfg.StallFor = 300 * time.Millisecond
	ts := startServer(t, cfg)
	resp, err := http.Post(ts.url+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"hello","max_tokens":4,"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var events []time.Time
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events = append(events, time.Now())
		}
	}
	end := time.Now()
	if len(events) < 2 {
		t.Fatalf("%d events", len(events))
	}
	// The replica starts its stall once the first event is written, a
	// little before the client reads it: allow that delivery time.
	const delivery = 50 * time.Millisecond
	if gap := end.Sub(events[0]); gap < cfg.StallFor-delivery {
		t.Errorf("the stream ended %v after its first event; want a stall of %v", gap, cfg.StallFor)
	}
}
