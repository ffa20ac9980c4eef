//go:build !race

package extproc

import "testing"

// TestDecisionAllocationsLargeBody gates the bytes the picker allocates
// for one streamed chat completion with a 220 KB body arriving in Envoy's
// 16 KiB chunks (gRPC left out): the body is gathered in a pooled buffer
// and sent back as parts of it, so a request costs the messages that span
// the edits (at most two of 32,000 bytes here) and small objects, not a
// copy of the body for gathering (256 KiB) and another for the rewrite
// (220 KB) as before. Without the race detector, whose sync.Pool drops
// buffers at random.
func TestDecisionAllocationsLargeBody(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation gate")
	}
	const maxBytes = 96 << 10
	run := decisionRun(t, envoyChunks(chatExchange(220_000, "10.0.0.1:8000")))
	if b := bytesPerRun(200, run); b > maxBytes {
		t.Errorf("%d bytes allocated per request, want ≤ %d", b, maxBytes)
	} else {
		t.Logf("%d bytes allocated per request", b)
	}
}
