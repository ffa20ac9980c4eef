// Package envoystandin is a small HTTP data plane that behaves like Envoy's
// ext_proc HTTP filter in front of an ORIGINAL_DST cluster, so that an
// endpoint picker (an envoy.service.ext_proc.v3.ExternalProcessor server) can
// be tested and benchmarked end to end on a machine where Envoy cannot run.
//
// # What of Envoy it reproduces
//
// The filter is configured as upstream's picker expects: processing mode
// request and response headers SEND, request and response bodies
// FULL_DUPLEX_STREAMED, request and response trailers SEND, one ext_proc
// Process stream per client request (plaintext or TLS). For each request:
//
//   - RequestHeaders carries a HeaderMap with lower-case keys, values in
//     raw_value, the pseudo-headers :authority, :path, :method and :scheme, and
//     the headers Envoy's connection manager adds before the filter chain
//     (x-forwarded-proto, x-request-id when absent; transfer-encoding when the
//     client sent a chunked body). end_of_stream is true for bodiless requests.
//     The first message carries protocol_config (both body modes
//     FULL_DUPLEX_STREAMED), as Envoy sends it.
//   - The body follows without waiting for the header response, in chunks of
//     Config.ChunkSize bytes (16 KiB by default, the size of Envoy's read
//     buffers). With a Content-Length the last chunk carries end_of_stream; a
//     chunked body ends with an empty end_of_stream chunk, as Envoy's HTTP/1
//     codec does, or, when the client sent trailers, with RequestTrailers
//     (Config.EndWithTrailers forces that ending, with empty trailers, as
//     older Envoy versions do under request_trailer_mode SEND).
//   - Every request-path message carries metadata_context with the subset
//     hint (namespace envoy.lb.subset_hint, key
//     x-gateway-destination-endpoint-subset, a list of ip:port) when one is
//     configured for the request (Config.SubsetHint, or the
//     x-envoy-standin-subset header, see SubsetHeader).
//   - Answers are applied as Envoy applies them: an ImmediateResponse becomes
//     a local reply (status, header mutations, body, text/plain when a body
//     has no content type) and ends the exchange; a RequestHeaders response
//     applies set/append/remove mutations under Envoy's default mutation rules
//     (pseudo-headers cannot be removed; :authority, host, :method, :scheme and
//     x-envoy-* cannot be changed; content-length cannot be set because the
//     body is streamed; raw_value is read and value ignored, as Envoy does
//     with send_header_raw_value) and records clear_route_cache and dynamic
//     metadata; the body sent upstream is exactly the bytes of the picker's
//     StreamedBodyResponses, ending at the one with end_of_stream.
//   - The request goes to the address in x-gateway-destination-endpoint,
//     parsed exactly as ORIGINAL_DST with use_http_header does (first value
//     only; ip:port with IPv4 in strict dotted-quad form, or [ipv6]:port; a
//     port of at most 65535). An absent or invalid value gets Envoy's answer:
//     503 "no healthy upstream". Requests are forwarded over HTTP/1.1 with a
//     keep-alive pool, the body chunked (Envoy removes content-length in
//     FULL_DUPLEX_STREAMED mode). A connection failure gets Envoy's 503
//     "upstream connect error or disconnect/reset before headers".
//   - The response goes through the picker: ResponseHeaders with :status (and
//     x-envoy-upstream-service-time, as Envoy's router adds it), then each
//     chunk as it arrives from upstream, with end_of_stream on the last (or
//     ResponseTrailers); each response-path message carries metadata_context
//     namespace envoy.lb, key x-gateway-destination-endpoint-served, the
//     address actually used. The client receives the picker's mutated
//     headers and the picker's streamed body, flushed chunk by chunk, without
//     content-length. Local replies made after the request headers were
//     processed (no healthy upstream, connect failure) go through the
//     response path too, as they go through Envoy's encoder filters.
//   - Client cancellation cancels the upstream request and closes and resets
//     the ext_proc stream, as Envoy does when the downstream stream is reset.
//   - Errors: a gRPC error on the stream gets Envoy's 500 (details
//     ext_proc_error_gRPC_error_<code>).
//
// # Where it differs from Envoy, on purpose
//
//   - Message timeout. Envoy's ext_proc filter starts no per-message timer
//     in FULL_DUPLEX_STREAMED body mode at all (processor_state.cc), so a picker that never
//     answers holds the request until the route or stream timeout. The
//     stand-in enforces Config.MessageTimeout (default 200 ms, Envoy's
//     message_timeout default) whenever the picker owes it an answer — the
//     whole request was sent and not fully answered, the response headers
//     are unanswered, or response chunks were sent since the picker's last
//     body answer (a slow upload or a slow upstream is not the picker's
//     fault) — measured from the last message sent or received; on expiry it answers
//     as Envoy does for a message timeout with failure_mode_allow false: 504
//     with an empty body, response details
//     ext_proc_error_per-message_timeout_exceeded (Envoy older than the
//     ext_proc_timeout_error runtime flag answered 500). A negative
//     MessageTimeout disables the timer, which is what Envoy really does.
//     override_message_timeout is ignored (Envoy ignores it too unless
//     max_message_timeout is configured, which the stand-in does not model).
//   - A spurious message (one Envoy does not expect in its current state,
//     such as a body response before the header response, or a non-streamed
//     body mutation) makes Envoy ignore the picker and continue with the body
//     already drained; the stand-in answers 500 with details
//     envoy_standin_spurious_message instead, so a picker bug is loud.
//   - A picker that ends its stream cleanly before the exchange is over
//     gets a 500 (details envoy_standin_stream_closed_early; a reset once the
//     response has started), whatever the timing. Envoy (onGrpcClose) would
//     continue without the picker: unmodified headers, body chunks the
//     picker had already been given lost, the rest unprocessed.
//   - When the picker's envoy.lb dynamic metadata names a destination that
//     differs from the x-gateway-destination-endpoint header, the stand-in
//     answers 503 (details envoy_standin_destination_metadata_mismatch)
//     unless Config.AllowMetadataMismatch is set. Envoy only reads the header.
//   - CONTINUE_AND_REPLACE, mode_override, streamed_immediate_response,
//     attributes, flow-control windows, observability mode, route matching,
//     retries, HTTP/2 to the client or to upstream, and Envoy's header size
//     limits are not modelled. Chunks are read with io.ReadFull, so a client
//     that uploads slowly sees its body sent in full chunks rather than as
//     each read returns.
//
// # Measurements
//
// Each finished request yields a Result (Config.OnResult) with its status,
// the destination chosen, the endpoint served, the response details and two
// timings: the picker's decision latency (last request message sent → header
// response received) and the delay the picker's response path adds to each
// response chunk (chunk sent to the picker → the picker's bytes covering it
// received). StandIn.Stats returns running totals.
package envoystandin
