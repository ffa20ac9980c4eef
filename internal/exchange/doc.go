// Package exchange holds the life of one inference request after it
// arrived, with no transport in it: the native proxy drives it today and an
// Envoy ext_proc picker will drive it next, so both record, map errors and
// observe streams the same way. It imports no net/http, gRPC, Kubernetes,
// Prometheus or OpenTelemetry package (internal/archtest checks that).
//
// # One request, top down
//
// A front end keeps one [Tracker] (observer, logger and clock injected) and,
// per request:
//
//  1. [Tracker.Start] with the request ID, at arrival: the start time.
//  2. [Exchange.Parsed] once the body parsed, then [Exchange.Begin] with the
//     router's decision: it returns the body to send upstream, the model
//     renamed to the target and, for a stream, stream_options.include_usage
//     turned on so usage can be recorded.
//     Anything refused before forwarding goes to [Exchange.Fail], which
//     returns the OpenAI error and the x-llm-d-request-dropped-reason value.
//  3. [Exchange.Attempt] per endpoint tried: the first counts the request as
//     running ([Observer.RunningAdd]); each acquires the endpoint's in-flight
//     counters and releases the previous one's. Between attempts,
//     [Exchange.Repick] asks the router for another endpoint.
//  4. Either [Exchange.UpstreamFailed] (no response: the error to answer
//     with, or none when the client is gone), or [Exchange.Served],
//     [Exchange.ResponseStarted] (status, SSE or not), [Exchange.Chunk] per
//     piece of body (SSE events timed, usage found, the usage chunk the
//     client did not ask for removed), [Exchange.Flush] and
//     [Exchange.BodyEnd].
//  5. [Exchange.End] with the transport's [Outcome] (timeout fired, client
//     stalled, client gone), always, last: it settles the status and error
//     code, computes TTFT and TPOT, sends the [Record] to the [Observer]
//     (telemetry.Metrics) and writes the access log, client strings clipped
//     and no prompt or credential in it.
//
// The error → (status, OpenAI error, error code) map is statusFor, the one
// place internal errors become statuses; the error codes (Error*), the
// protocol header names (Header*) and the dropped-reason values (Dropped*)
// are this package's vocabulary, which telemetry and the proxy use.
// [Tracker.Models] builds the /v1/models list from the router's union.
package exchange
