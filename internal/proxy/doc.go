// Package proxy is infergate's native front end: an OpenAI-compatible HTTP
// reverse proxy that routes each request through the [router] and forwards it
// to the chosen model server, with no Envoy in between.
//
// # Request path
//
// The body is read once (bounded by the configured limit), parsed once by
// [openai.ParseRequest], and forwarded as the same bytes unless the model name
// changes (a byte splice) or a streaming request needs usage reporting turned
// on. Responses are never buffered: SSE events are passed on as they complete
// (FlushInterval -1) while the proxy observes time to first token, inter-token
// gaps and usage. When the gateway turned on stream_options.include_usage for a
// client that did not ask, the extra usage chunk is removed from what the
// client sees.
//
// # Resilience
//
// A failed connect, a broken connection or a 502/503/504 before the first
// response byte is retried on another endpoint (MaxRetries times). Connect,
// first-byte and idle timeouts answer 504. A client that goes away cancels
// the upstream request (logged as 499).
//
// # Errors
//
// Every error the gateway itself produces is OpenAI-shaped JSON; the mapping
// from internal errors to statuses lives in one function, statusFor.
package proxy
