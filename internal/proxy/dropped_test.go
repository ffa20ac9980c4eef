package proxy

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/infergate/infergate/internal/exchange"
)

// TestNoEndpointDroppedReason checks DESIGN's row for a pool without a
// ready endpoint: 503, x-llm-d-request-dropped-reason rejected-no-endpoints
// and a Retry-After of at least one second.
func TestNoEndpointDroppedReason(t *testing.T) {
	h := setup(t, Options{}, nil, nil) // the configured model "alias" has no endpoint
	rec := do(t, h, "/v1/completions", `{"model":"alias","prompt":"x"}`, nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503", rec.Code, rec.Body)
	}
	if got := rec.Header().Get(exchange.HeaderDroppedReason); got != exchange.DroppedNoEndpoints {
		t.Errorf("%s = %q, want %q", exchange.HeaderDroppedReason, got, exchange.DroppedNoEndpoints)
	}
	if secs, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After = %q, want at least 1", rec.Header().Get("Retry-After"))
	}
	if code := errorCode(t, rec.Body.Bytes()); code == "" {
		t.Errorf("no OpenAI error code in %s", rec.Body)
	}
}
