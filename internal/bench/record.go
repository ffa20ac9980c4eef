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
	// QueueWait is the gateway's flow-control queue wait it reported
	// (x-infergate-queue-wait-ms), 0 when it reported none.
	QueueWait time.Duration
	// Held is how long the client held the request back under its class's
	// in-flight cap (see [Class.MaxInFlight]); Sent, TTFT and E2E count
	// from before that wait.
	Held time.Duration
}

// hold charges a wait of d at the client before the request was sent: the
// request arrived d earlier, and its user waited d longer for the first
// token and for the end.
func (r *record) hold(d time.Duration) {
	r.Held = d
	r.Sent -= d
	if r.TTFT > 0 {
		r.TTFT += d
	}
	r.E2E += d
}

// ok reports whether the request completed with a 200 and a full stream.
func (r *record) ok() bool { return r.Status == 200 && r.Err == "" && r.TTFT > 0 }
