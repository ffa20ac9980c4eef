package tracing

import "go.opentelemetry.io/otel/attribute"

// Span names. The proxy's server span is named after the HTTP semantic
// conventions ("POST /v1/chat/completions"); its children are these.
const (
	// SpanParse covers reading and parsing the request body.
	SpanParse = "infergate.parse"
	// SpanRoute covers model resolution, admission and the endpoint pick.
	SpanRoute = "infergate.route"
	// SpanUpstream is one client span per upstream attempt, from sending
	// the request to the end of the response passed on (or the failure).
	SpanUpstream = "infergate.upstream"
)

// Span event names.
const (
	// EventFirstByte: the first response body byte reached the client.
	EventFirstByte = "infergate.first_byte"
	// EventEndOfStream: the upstream response body ended.
	EventEndOfStream = "infergate.end_of_stream"
)

// infergate's own attribute keys (the rest are semantic conventions
// [SemconvVersion]: http.*, server.*, gen_ai.*, error.type).
const (
	// RequestID is the request's x-request-id.
	RequestID = attribute.Key("infergate.request_id")
	// Pool is the pool the request was routed to.
	Pool = attribute.Key("infergate.pool")
	// TargetModel is the model the replica receives (after rewrites).
	TargetModel = attribute.Key("infergate.target_model")
	// Priority is the objective's priority.
	Priority = attribute.Key("infergate.priority")
	// Endpoint is the endpoint's name.
	Endpoint = attribute.Key("infergate.endpoint")
	// Candidates is how many endpoints were left after filtering.
	Candidates = attribute.Key("infergate.candidates")
	// ScoreTotal is the picked endpoint's weighted score.
	ScoreTotal = attribute.Key("infergate.score.total")
	// ScorePrefix is a scorer's raw score; the key is
	// "infergate.score.<scorer>" for each scorer (queue, kv-cache, prefix,
	// lora, in-flight).
	ScorePrefix = "infergate.score."
	// PrefixBlocksMatched and PrefixBlocksTotal are the prompt blocks the
	// picked endpoint likely has cached, out of those hashed.
	PrefixBlocksMatched = attribute.Key("infergate.prefix.blocks_matched")
	// PrefixBlocksTotal is how many blocks the prompt was hashed into.
	PrefixBlocksTotal = attribute.Key("infergate.prefix.blocks_total")
	// QueueWaitMillis is how long the request waited in flow control, in
	// milliseconds (set only when it waited).
	QueueWaitMillis = attribute.Key("infergate.queue_wait_ms")
	// Admission is the admission outcome: "admitted" or the dropped reason.
	Admission = attribute.Key("infergate.admission")
	// Attempt is the attempt's number, from 1.
	Attempt = attribute.Key("infergate.attempt")
	// RetryReason is why the previous attempt was abandoned ("status 503",
	// "connect error").
	RetryReason = attribute.Key("infergate.retry_reason")
	// Hedge marks the attempt span of a hedged copy: a second copy of the
	// request sent while the attempt before it still waited for its first
	// byte (upstream.hedgeAfter); the two attempt spans are siblings.
	Hedge = attribute.Key("infergate.hedge")
	// Superseded marks the attempt span of a hedged leg cancelled because
	// the other leg answered first.
	Superseded = attribute.Key("infergate.superseded")
	// Stream is whether the client asked for a stream.
	Stream = attribute.Key("infergate.stream")
	// RequestBytes is the size of the client's request body.
	RequestBytes = attribute.Key("infergate.request_bytes")
	// ResponseBytes is the size of the response body passed on.
	ResponseBytes = attribute.Key("infergate.response_bytes")
	// Replica is the simulator replica's name (its x-inference-pod).
	Replica = attribute.Key("infergate.replica")
	// ErrorCode is infergate's error code (the error_code metric label).
	ErrorCode = attribute.Key("infergate.error_code")
)
