// Package extproc is infergate's second front end: Envoy's external
// processing service (envoy.service.ext_proc.v3.ExternalProcessor) acting as
// an endpoint picker, the role upstream's llm-d endpoint picker plays behind
// GKE Inference Gateway and other Envoy-based gateways. Envoy forwards each
// request itself; the picker only says where.
//
// # One stream, one request
//
// Envoy opens one bidirectional gRPC stream per HTTP request and sends, with
// the body mode FULL_DUPLEX_STREAMED (trailers mode SEND): the request
// headers; the body in chunks, the last one with end_of_stream, or else
// trailers that end it; then the response headers, body chunks and maybe
// trailers. [Server.Process] drives one [exchange.Exchange] through that
// sequence, with the same calls the native proxy makes, so both front ends
// record the same metrics and access logs:
//
//  1. Request headers: :path, :method, x-request-id and the control headers
//     (exchange.ReadControl; removed by a header mutation when untrusted).
//     GET /v1/models is answered at once (ImmediateResponse 200, the models'
//     union, as the proxy answers it); unknown paths get 404 and other
//     methods 405, as from the proxy. Nothing is sent back yet otherwise.
//  2. Body chunks are buffered (limits.maxBodyBytes: 413; the body budget
//     shared with the proxy: 503) until the end of stream or the trailers.
//  3. Decision: openai.ParseRequest, router.Route restricted to the
//     listener's pool and to Envoy's subset hint (request metadata
//     envoy.lb.subset_hint / x-gateway-destination-endpoint-subset; a hint
//     that matches nothing is 503 rejected-no-endpoints), Exchange.Begin.
//     The answer: a request-headers response setting
//     x-gateway-destination-endpoint to the endpoint's ip:port (what Envoy's
//     ORIGINAL_DST cluster reads), Content-Length, clearing the route cache,
//     with the same value in the envoy.lb dynamic metadata (plus opt-in
//     fallbacks and scores); then the body back as StreamedBodyResponse
//     chunks, unchanged unless the model was rewritten or include_usage
//     added (spliced, never re-marshalled), the last with end_of_stream, or
//     a trailers response when the request ended with trailers.
//     Rejections are ImmediateResponses with OpenAI error bodies and, for
//     admission rejections, x-llm-d-request-dropped-reason and Retry-After.
//  4. Response: the served endpoint from the response's metadata (envoy.lb
//     x-gateway-destination-endpoint-served; the chosen one otherwise), the
//     :status, then each body chunk through Exchange.Chunk (SSE events
//     reassembled across chunks, the usage chunk the client did not ask for
//     removed) and passed back at once.
//  5. The stream's end: Exchange.End, always; a stream that ends before the
//     response did (the client went away) releases everything and is
//     recorded as client-closed.
//
// [GRPC] serves the processor and [Health] the gRPC health service, each
// on its own listener, with the gateway's bounded graceful stop.
package extproc
