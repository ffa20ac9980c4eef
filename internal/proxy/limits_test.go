package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
)

func TestBodyBudget(t *testing.T) {
	t.Parallel()
	b := newBackend(t, okJSON)
	// 200 KiB budget: a 64 KiB first buffer and its growth fit for a body of
	// ~100 KB, but not for one of ~300 KB.
	h := setup(t, Options{MaxBufferedBodyBytes: 200 << 10, MaxBodyBytes: 1 << 20}, []string{b.addr()}, []int{0})
	body := func(n int) string {
		return `{"model":"base","prompt":"` + strings.Repeat("a", n) + `","max_tokens":1}`
	}
	rec := do(t, h, "/v1/completions", body(300<<10), nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("body past the budget: status %d, want 503: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get(exchange.HeaderDroppedReason); got != exchange.DroppedSaturated {
		t.Errorf("%s = %q", exchange.HeaderDroppedReason, got)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	errorCode(t, rec.Body.Bytes())
	for range 3 { // the budget is released after every request
		if rec := do(t, h, "/v1/completions", body(100<<10), nil); rec.Code != http.StatusOK {
			t.Fatalf("body within the budget: status %d: %s", rec.Code, rec.Body)
		}
	}
	if used := h.budget.Used(); used != 0 {
		t.Fatalf("budget holds %d bytes after the requests finished", used)
	}
}

// TestRewriteCopiesNoBody: a rewritten body goes upstream as parts of the
// received one, so a body that fits the budget alone is forwarded when its
// model is rewritten too (it took a second, rewritten copy of itself
// before), and the replica gets exactly the rewritten body.
func TestRewriteCopiesNoBody(t *testing.T) {
	t.Parallel()
	b := newBackend(t, okJSON)
	// A ~90 KB body fits alone (buffer ≤ 128 KiB) but would not with a
	// rewritten copy of itself ("alias" routes to "lora-a").
	h := setup(t, Options{MaxBufferedBodyBytes: 160 << 10, MaxBodyBytes: 1 << 20}, []string{b.addr()}, []int{0})
	prompt := strings.Repeat("a", 90<<10)
	rec := do(t, h, "/v1/completions", `{"model":"alias","prompt":"`+prompt+`"}`, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("rewritten body within the budget: status %d: %s", rec.Code, rec.Body)
	}
	b.mu.Lock()
	got := string(b.last)
	b.mu.Unlock()
	if want := `{"model":"lora-a","prompt":"` + prompt + `"}`; got != want {
		t.Fatalf("replica got %d bytes starting %.40q, want the rewritten body (%d bytes)", len(got), got, len(want))
	}
	if used := h.budget.Used(); used != 0 {
		t.Fatalf("budget holds %d bytes after the request finished", used)
	}
}

// TestBodyBudgetSpentByQueuedRequests: when requests waiting in flow
// control hold part of the shared body budget, a body refused by it is a
// full queue (429 with the queue's Retry-After), not a gateway at capacity.
func TestBodyBudgetSpentByQueuedRequests(t *testing.T) {
	t.Parallel()
	b := newBackend(t, okJSON)
	budget := admission.NewBudget(200 << 10)
	h := setup(t, Options{Budget: budget, MaxBodyBytes: 1 << 20, QueueRetryAfter: func() time.Duration { return 7 * time.Second }},
		[]string{b.addr()}, []int{0})
	body := `{"model":"base","prompt":"` + strings.Repeat("a", 300<<10) + `","max_tokens":1}`
	if rec := do(t, h, "/v1/completions", body, nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("nothing queued: status %d, want 503", rec.Code)
	}
	budget.AddQueued(1) // a queued request holds budget bytes
	rec := do(t, h, "/v1/completions", body, nil)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("budget held by queued requests: status %d, want 429: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get(exchange.HeaderDroppedReason); got != exchange.DroppedSaturated {
		t.Errorf("%s = %q, want %s", exchange.HeaderDroppedReason, got, exchange.DroppedSaturated)
	}
	if got := rec.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After %q, want 7", got)
	}
	errorCode(t, rec.Body.Bytes())
}
