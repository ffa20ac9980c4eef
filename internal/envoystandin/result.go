package envoystandin

import (
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
)

// Response details (Envoy's %RESPONSE_CODE_DETAILS%) the stand-in reports.
const (
	// DetailsViaUpstream: the upstream's response, through the picker.
	DetailsViaUpstream = "via_upstream"
	// DetailsMessageTimeout: the picker did not answer in time (504).
	DetailsMessageTimeout = "ext_proc_error_per-message_timeout_exceeded"
	// DetailsNoHealthy: ORIGINAL_DST found no host in the destination
	// header (503 "no healthy upstream").
	DetailsNoHealthy = "no_healthy_upstream"
	// DetailsConnectFailure: the upstream connection failed (503).
	DetailsConnectFailure = "upstream_reset_before_response_started{remote_connection_failure}"
	// DetailsUpstreamReset: the upstream failed mid-response; the client's
	// stream is reset.
	DetailsUpstreamReset = "upstream_reset_after_response_started"
	// DetailsDownstreamReset: the client went away.
	DetailsDownstreamReset = "downstream_remote_disconnect"
	// DetailsSpurious: the picker sent a message Envoy does not expect
	// (500; see the package doc).
	DetailsSpurious = "envoy_standin_spurious_message"
	// DetailsMetadataMismatch: header and envoy.lb metadata name different
	// destinations (503; a stand-in check).
	DetailsMetadataMismatch = "envoy_standin_destination_metadata_mismatch"
	// DetailsBadSubsetHint: SubsetHeader is too large (400).
	DetailsBadSubsetHint = "envoy_standin_bad_subset_hint"
	// DetailsInvalidPath: the :path after mutations is not a request URI
	// (500).
	DetailsInvalidPath = "envoy_standin_invalid_path"
	// detailsGRPCErrorPrefix is followed by the gRPC status code number.
	detailsGRPCErrorPrefix = "ext_proc_error_gRPC_error_"
)

// Result describes one finished request.
type Result struct {
	// Status is the status sent to the client; 0 when the stream was reset
	// before a response started.
	Status int
	// Details is Envoy's response code details for the outcome, e.g.
	// via_upstream or ext_proc_error_per-message_timeout_exceeded; for an
	// ImmediateResponse, its details field.
	Details string
	// ImmediateResponse is true when the picker answered with one.
	ImmediateResponse bool
	// Destination is the x-gateway-destination-endpoint value after the
	// picker's header mutations ("" when absent).
	Destination string
	// Served is the ip:port the request was forwarded to ("" when it was not).
	Served string
	// ClearRouteCache is true when the header response asked for it along
	// with a header mutation (Envoy ignores it otherwise).
	ClearRouteCache bool
	// DynamicMetadata is the picker's dynamic metadata over the whole
	// exchange (request and response paths), by namespace.
	DynamicMetadata map[string]*structpb.Struct
	// IgnoredMutations counts header mutations Envoy's rules disallowed.
	IgnoredMutations int
	// RequestChunks is the number of request body chunks sent to the picker.
	RequestChunks int
	// RequestTrailers is true when the request ended with trailers.
	RequestTrailers bool
	// DecisionLatency is the time from sending the last request message
	// (the last body chunk, the trailers, or the headers of a bodiless
	// request) to receiving the header response; 0 when the answer came
	// before the request ended.
	DecisionLatency time.Duration
	// ResponseChunks is the number of response body chunks sent to the
	// picker.
	ResponseChunks int
	// ResponseChunkDelay sums, over the response chunks, the time from
	// sending a chunk to the picker to receiving the picker's bytes that
	// cover it; ResponseChunkDelayMax is the largest.
	ResponseChunkDelay, ResponseChunkDelayMax time.Duration
	// Duration is the time from the request's arrival to the end of its
	// response (or of the exchange, when it ended early).
	Duration time.Duration
	// Err is the error that ended the request early, if any.
	Err error
}

// Stats are running totals over all requests.
type Stats struct {
	// Requests counts finished requests; Forwarded those sent upstream.
	Requests, Forwarded int64
	// ImmediateResponses counts the picker's ImmediateResponses.
	ImmediateResponses int64
	// MessageTimeouts, NoHealthyUpstream, ConnectFailures,
	// MetadataMismatches, StreamErrors (gRPC errors), SpuriousMessages and
	// ClientResets count requests that ended with the matching details.
	MessageTimeouts, NoHealthyUpstream, ConnectFailures, MetadataMismatches int64
	StreamErrors, SpuriousMessages, ClientResets                            int64
	// DecisionLatencyTotal sums Result.DecisionLatency over requests that
	// got a header response; Decisions counts them.
	DecisionLatencyTotal time.Duration
	Decisions            int64
	// ResponseChunkDelayTotal sums Result.ResponseChunkDelay; ResponseChunks
	// sums Result.ResponseChunks.
	ResponseChunkDelayTotal time.Duration
	ResponseChunks          int64
}

// counters are the atomic counterparts of Stats.
type counters struct {
	requests, forwarded, immediate, timeouts       atomic.Int64
	noHealthy, connectFailures, metadataMismatches atomic.Int64
	streamErrors, spurious, clientResets           atomic.Int64
	decisionNanos, decisions                       atomic.Int64
	chunkDelayNanos, chunks                        atomic.Int64
}

// record adds a finished request to the counters.
func (c *counters) record(r *Result, decided bool) {
	c.requests.Add(1)
	if r.Served != "" {
		c.forwarded.Add(1)
	}
	if r.ImmediateResponse {
		c.immediate.Add(1)
	}
	c.chunks.Add(int64(r.ResponseChunks))
	c.chunkDelayNanos.Add(int64(r.ResponseChunkDelay))
	if decided {
		c.decisions.Add(1)
		c.decisionNanos.Add(int64(r.DecisionLatency))
	}
	switch r.Details {
	case DetailsMessageTimeout:
		c.timeouts.Add(1)
	case DetailsNoHealthy:
		c.noHealthy.Add(1)
	case DetailsConnectFailure:
		c.connectFailures.Add(1)
	case DetailsMetadataMismatch:
		c.metadataMismatches.Add(1)
	case DetailsSpurious:
		c.spurious.Add(1)
	case DetailsDownstreamReset:
		c.clientResets.Add(1)
	default:
		if len(r.Details) > len(detailsGRPCErrorPrefix) && r.Details[:len(detailsGRPCErrorPrefix)] == detailsGRPCErrorPrefix {
			c.streamErrors.Add(1)
		}
	}
}

// snapshot reads the counters.
func (c *counters) snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Forwarded: c.forwarded.Load(),
		ImmediateResponses: c.immediate.Load(), MessageTimeouts: c.timeouts.Load(),
		NoHealthyUpstream: c.noHealthy.Load(), ConnectFailures: c.connectFailures.Load(),
		MetadataMismatches: c.metadataMismatches.Load(), StreamErrors: c.streamErrors.Load(),
		SpuriousMessages: c.spurious.Load(), ClientResets: c.clientResets.Load(),
		DecisionLatencyTotal: time.Duration(c.decisionNanos.Load()), Decisions: c.decisions.Load(),
		ResponseChunkDelayTotal: time.Duration(c.chunkDelayNanos.Load()), ResponseChunks: c.chunks.Load(),
	}
}
