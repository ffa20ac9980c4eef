// Package openai reads and writes the OpenAI wire format on the gateway's
// hot path: request bodies, streamed and non-streamed responses, and error
// bodies. Everything here works on raw bytes, never panics on untrusted
// input, and allocates as little as possible.
//
// # Requests
//
// [ParseRequest] validates a request body as JSON in a single pass with a
// small hand-written scanner and extracts the routing fields into a
// [Request]: model, stream, stream_options.include_usage, max tokens, and
// the raw bytes of the prompt (a subslice of the body). Only the model name
// is copied. [Request.Rewrite] changes the model and turns on
// stream_options.include_usage by splicing bytes, so the rest of the body is
// forwarded exactly as the client sent it.
//
// # Responses
//
// A [StreamObserver] sits in the path of a server-sent-event response: it
// reassembles events across reads, reads usage, counts content events, and
// can remove the usage-only chunk the gateway asked for on the client's
// behalf. For non-streamed responses a [UsageTail] keeps only the last bytes
// of the body, from which the usage object is read at the end; [ParseUsage]
// reads usage from a complete body. [ParseModelList] reads a replica's
// /v1/models.
//
// # Errors
//
// [Error] is an OpenAI-shaped error with its HTTP status (the package's own
// Status constants: it imports no HTTP library); [Error.AppendJSON] renders
// its body and the transport sends it (internal/openaihttp for net/http). Constructors cover the gateway's error table (400, 404, 413, 429, 502,
// 503, 504). Messages are stable sentences that never carry request content
// or internal error text.
//
// # Concurrency
//
// Functions are safe for concurrent use. A [StreamObserver] or [UsageTail]
// belongs to one response and must not be shared between goroutines.
package openai
