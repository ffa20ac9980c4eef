package extproc

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/infergate/infergate/internal/telemetry"
)

// TestDecisionAllocations gates the picker's own allocations for one
// streamed chat completion with a 1 KB body (the BenchmarkDecision
// exchange, gRPC left out): a count of objects, and bytes, so that a
// per-request buffer sized for large bodies (a 64 KiB body buffer per
// request was 93 % of the bytes and most of the CPU) cannot come back
// unnoticed. The bounds leave room over today's 57 objects and ~5.8 KB.
// The decision-latency histogram is on, as in the gateway.
func TestDecisionAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation gate")
	}
	const maxObjects, maxBytes = 64, 12 << 10
	run := decisionRun(t, chatExchange(1<<10, "10.0.0.1:8000"))
	if n := testing.AllocsPerRun(200, run); n > maxObjects {
		t.Errorf("%.0f allocations per request, want ≤ %d", n, maxObjects)
	}
	if b := bytesPerRun(200, run); b > maxBytes {
		t.Errorf("%d bytes allocated per request, want ≤ %d", b, maxBytes)
	}
}

// decisionRun returns a function that plays msgs, one whole exchange, to
// a picker with the decision-latency histogram on, as in the gateway; it
// has played them once already, so pools and caches are warm.
func decisionRun(t *testing.T, msgs []*extprocv3.ProcessingRequest) func() {
	t.Helper()
	p := newBenchServer(t, Options{Metrics: &recorder{drop: true}, Decisions: telemetry.NewMetrics(nil, telemetry.Options{})})
	ms := &memStream{ctx: context.Background()}
	run := func() {
		ms.reset(msgs)
		if err := p.srv.Process(ms); err != nil || ms.first.GetRequestHeaders() == nil {
			t.Fatalf("Process: %v, first answer %v", err, ms.first)
		}
	}
	run()
	return run
}

// bytesPerRun returns the bytes allocated per call of run, averaged over
// runs calls.
func bytesPerRun(runs int, run func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		run()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestBodyBufferSizing: a body in several messages comes back byte for
// byte whatever its Content-Length says (right, too small, too large,
// absent), and so does a body in one message (kept without a copy).
func TestBodyBufferSizing(t *testing.T) {
	body := chatBody(simModel, 40_000, false) // not streamed: sent back unchanged
	for _, tc := range []struct {
		name   string
		length string
		chunk  int
	}{
		{"content-length", strconv.Itoa(len(body)), envoyChunk},
		{"content-length too small", "100", envoyChunk},
		{"content-length too large", "1000000", envoyChunk},
		{"no content-length", "", envoyChunk},
		{"one message", strconv.Itoa(len(body)), len(body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newBenchServer(t, Options{Metrics: &recorder{drop: true}})
			kv := []string{":path", "/v1/chat/completions", ":method", "POST", "content-type", "application/json"}
			if tc.length != "" {
				kv = append(kv, "content-length", tc.length)
			}
			msgs := []*extprocv3.ProcessingRequest{{Request: &extprocv3.ProcessingRequest_RequestHeaders{
				RequestHeaders: &extprocv3.HttpHeaders{Headers: envoyHeaders(kv...)}}}}
			for i := 0; i < len(body); i += tc.chunk {
				end := min(i+tc.chunk, len(body))
				msgs = append(msgs, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
					RequestBody: &extprocv3.HttpBody{Body: bytes.Clone(body[i:end]), EndOfStream: end == len(body)}}})
			}
			ms := &memStream{ctx: context.Background(), keep: true}
			ms.reset(msgs)
			if err := p.srv.Process(ms); err != nil {
				t.Fatal(err)
			}
			if ms.first.GetRequestHeaders() == nil {
				t.Fatalf("first answer %v, want the decision", ms.first)
			}
			var got []byte
			for _, r := range ms.all[1:] {
				got = append(got, r.GetRequestBody().GetResponse().GetBodyMutation().GetStreamedResponse().GetBody()...)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("body sent back (%d bytes) differs from the request's (%d bytes)", len(got), len(body))
			}
		})
	}
}
