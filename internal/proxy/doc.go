// Package proxy is infergate's native front end: an OpenAI-compatible HTTP
// proxy that routes each request through the [router] and forwards it to the
// chosen model server, with no Envoy in between. It is the transport adapter
// around [exchange], which holds everything about a request that is not HTTP.
//
// # One request, top down
//
// [Handler.ServeHTTP] sets x-request-id and dispatches by path: GET
// /v1/models answers the exchange's model list; the inference paths go to
// serveInference (proxy.go), which reads top-down:
//
//  1. the exchange starts; finish is deferred and always ends it;
//  2. the in-flight cap is taken, control headers are read (or dropped when
//     untrusted), the body is read within its limits (see below);
//  3. [openai.ParseRequest] parses it once; [router.Router.Prepare]
//     resolves its pool and priority; the pool's flow control
//     ([admission.Queue.Enqueue]) admits it, or holds it while the pool is
//     saturated, or rejects it; [router.Router.Pick] picks an
//     endpoint; the exchange returns the body to send (model renamed,
//     stream usage turned on), whose copy must fit the body budget;
//  4. call.forward (forward.go) builds the outbound request (hop-by-hop
//     headers removed, X-Forwarded-For/-Host/-Proto of this hop,
//     x-request-id, Authorization stripped when configured), sends it with
//     retries, and copies the answer: status and headers, then the body
//     through the exchange, each write flushed so SSE events go out as they
//     complete;
//  5. finish returns the body budget and ends the exchange with what the
//     transport saw (timeout, stall, client gone), which records the metrics
//     and writes the access log.
//
// No state travels in a context value: the handler owns a call (the
// transport state of one request) and the exchange, and passes them down.
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
// response byte is retried on another endpoint (MaxRetries times), re-picked
// by [router.Router.Retry]. Connect and first-byte timeouts answer 504; an
// idle timeout between body reads cuts the response. A failed attempt's body
// is closed, not drained, so a replica that stalls it cannot delay the
// retry. A client that goes away cancels the upstream request (logged as
// 499). When the copy breaks off mid-response the handler panics with
// [http.ErrAbortHandler]: the client sees a truncated response and the
// server's recovery does not count it as a crash.
//
// # Errors
//
// Every error the gateway itself produces is OpenAI-shaped JSON; the mapping
// from internal errors to statuses lives in one place, the exchange package.
package proxy
