package extproc

import (
	"context"
	"runtime"
	"testing"
)

// TestDecisionAllocations gates the picker's own allocations for one
// streamed chat completion with a 1 KB body (the BenchmarkDecision
// exchange, gRPC left out): a count of objects, and bytes, so that a
// per-request buffer sized for large bodies (a 64 KiB body buffer per
// request was 93 % of the bytes and most of the CPU) cannot come back
// unnoticed. The bounds leave room over today's 56 objects and ~5.6 KB.
func TestDecisionAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation gate")
	}
	const maxObjects, maxBytes = 64, 12 << 10
	p := newBenchServer(t, Options{Metrics: &recorder{drop: true}})
	msgs := chatExchange(1<<10, "10.0.0.1:8000")
	ms := &memStream{ctx: context.Background()}
	run := func() {
		ms.reset(msgs)
		if err := p.srv.Process(ms); err != nil || ms.first.GetRequestHeaders() == nil {
			t.Fatalf("Process: %v, first answer %v", err, ms.first)
		}
	}
	run()
	if n := testing.AllocsPerRun(200, run); n > maxObjects {
		t.Errorf("%.0f allocations per request, want ≤ %d", n, maxObjects)
	}
	const runs = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		run()
	}
	runtime.ReadMemStats(&after)
	if b := (after.TotalAlloc - before.TotalAlloc) / runs; b > maxBytes {
		t.Errorf("%d bytes allocated per request, want ≤ %d", b, maxBytes)
	}
}
