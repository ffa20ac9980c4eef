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
// # Client limits
//
// A body buffer starts at most 64 KiB, whatever Content-Length says, and
// doubles as bytes arrive; all in-flight requests share one byte budget for
// their body buffers and rewritten copies (503 when it is spent). The body
// must arrive within the body read timeout (408, connection closed), the
// number of inference requests being read or served is capped (503), and a
// request on a connection past the connection limits gets 503 and a closed
// connection. Every response write moves the connection's write deadline;
// a client that takes no bytes for the stall timeout has its upstream request
// cancelled (logged as 499). The 503s carry
// x-llm-d-request-dropped-reason: rejected-saturated and Retry-After.
//
// # Resilience
//
// A failed connect, a broken connection or a 502/503/504 before the first
// response byte is retried on another endpoint (MaxRetries times). Connect,
// first-byte and idle timeouts answer 504. A failed attempt's body is closed,
// not drained, so a replica that stalls it cannot delay the retry. A client
// that goes away cancels the upstream request (logged as 499).
//
// # Errors
//
// Every error the gateway itself produces is OpenAI-shaped JSON; the mapping
// from internal errors to statuses lives in one function, statusFor.
package proxy
