package bench

import "time"

// record is what the load generator observed of one request. Durations are
// wall-clock; the run converts them to model time.
type record struct {
	// Index is the request's position in the workload.
	Index int
	// Sent is when the request was sent, from the start of the run.
	Sent time.Duration
	// Status is the HTTP status, 0 when the request failed without one.
	Status int
	// Err describes a transport or stream failure.
	Err string
	// TTFT is the time to the first content event; 0 when none arrived.
	TTFT time.Duration
	// E2E is the time to the end of the response body.
	E2E time.Duration
	// ITL holds the gaps between reads that carried content events after
	// the first.
	ITL []time.Duration
	// OutputTokens is usage.completion_tokens, or the number of content
	// events without usage.
	OutputTokens int
	// PromptTokens and CachedTokens come from usage.
	PromptTokens, CachedTokens int
	// Replica is the x-inference-pod response header: which replica served
	// the request.
	Replica string
}

// ok reports whether the request completed with a 200 and a full stream.
func (r *record) ok() bool { return r.Status == 200 && r.Err == "" && r.TTFT > 0 }
