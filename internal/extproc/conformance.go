package extproc

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
)

// Conformance mode implements the test contract of the Gateway API Inference
// Extension conformance suite's picker (lwepp), as of GIE v1.6.0 plus the
// later lwepp's report headers: every request, whatever its path, method and
// body, goes round-robin to an endpoint of the pool, restricted to the
// endpoints named by the test-epp-endpoint-selection request header
// (comma-separated IPs, every port, or ip:port) when present, else to Envoy's
// subset hint; the body passes unchanged and the response headers gain the
// selected endpoint, the pool and the endpoint the data plane reports as
// served (or lwepp's "fail: …" value when it reports none). Nothing is
// parsed, accounted or scheduled: the suite's backends are echo servers,
// not model servers.

// Values of the served-endpoint header when the data plane reports no
// served endpoint, exactly lwepp's (the suite reads them as failures).
const (
	conformanceNoLBMetadata     = "fail: missing envoy lb metadata"
	conformanceNoServedMetadata = "fail: missing destination endpoint served metadata"
)

// confStream is the state of one ext_proc stream in conformance mode.
type confStream struct {
	s        *Server
	srv      extprocv3.ExternalProcessor_ProcessServer
	phase    phase
	answered bool
	id       string
	selected string // ip:port of the chosen endpoint
}

// processConformance serves one ext_proc stream in conformance mode; see
// [Server.Process] for the return value.
func (s *Server) processConformance(srv extprocv3.ExternalProcessor_ProcessServer) (err error) {
	st := &confStream{s: s, srv: srv}
	defer func() {
		if v := recover(); v != nil {
			ps := &stream{s: s, srv: srv, id: st.id, answered: st.answered}
			err = ps.recovered(v)
		}
	}()
	for {
		req, rerr := srv.Recv()
		if rerr != nil {
			if rerr == io.EOF || status.Code(rerr) == codes.Canceled || errors.Is(rerr, srv.Context().Err()) {
				return nil
			}
			return rerr
		}
		done, herr := st.handle(req)
		if herr != nil || done {
			return herr
		}
	}
}

// handle answers one message from Envoy; done means an immediate response
// went out.
func (st *confStream) handle(req *extprocv3.ProcessingRequest) (bool, error) {
	switch v := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		if st.phase != phaseRequestHeaders {
			return true, protocolError("request headers twice")
		}
		return st.requestHeaders(v.RequestHeaders, req.GetMetadataContext())
	case *extprocv3.ProcessingRequest_RequestBody:
		if st.phase != phaseRequestBody {
			return true, protocolError("request body outside the request")
		}
		if v.RequestBody.GetEndOfStream() {
			st.phase = phaseRouted
		}
		return false, st.srv.Send(bodyResponse(true, v.RequestBody.GetBody(), v.RequestBody.GetEndOfStream()))
	case *extprocv3.ProcessingRequest_RequestTrailers:
		if st.phase != phaseRequestBody {
			return true, protocolError("request trailers outside the request")
		}
		st.phase = phaseRouted
		return false, st.srv.Send(trailersResponse(true))
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		if st.phase != phaseRouted {
			return true, protocolError("response headers before the request ended")
		}
		st.phase = phaseResponseBody
		if v.ResponseHeaders.GetEndOfStream() {
			st.phase = phaseDone
		}
		return false, st.srv.Send(st.responseHeaders(req.GetMetadataContext()))
	case *extprocv3.ProcessingRequest_ResponseBody:
		if st.phase != phaseResponseBody {
			return true, protocolError("response body outside the response")
		}
		if v.ResponseBody.GetEndOfStream() {
			st.phase = phaseDone
		}
		return false, st.srv.Send(bodyResponse(false, v.ResponseBody.GetBody(), v.ResponseBody.GetEndOfStream()))
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		if st.phase != phaseResponseBody {
			return true, protocolError("response trailers outside the response")
		}
		st.phase = phaseDone
		return false, st.srv.Send(trailersResponse(false))
	}
	return false, nil
}

// requestHeaders picks the endpoint and answers at once (the body is not
// needed): the destination header and metadata, then the body streams back
// unchanged chunk by chunk.
func (st *confStream) requestHeaders(h *extprocv3.HttpHeaders, md *corev3.Metadata) (bool, error) {
	s := st.s
	hs := headersOf(h.GetHeaders())
	given := hs.get(exchange.HeaderRequestID)
	st.id = exchange.RequestID(given)
	ep := s.conformancePick(hs.get(exchange.HeaderEndpointSelection), subsetHint(md))
	if ep == nil {
		e := openai.ErrNoEndpoint()
		st.answered = true
		return true, (&stream{s: s, srv: st.srv, id: st.id}).sendImmediate(e, exchange.DroppedNoEndpoints)
	}
	st.selected = ep.Address()
	var remove []string
	if s.dropCtl {
		// The selection header is the mode's own; the other control headers
		// stay untrusted.
		for _, name := range exchange.ControlHeaders {
			if name != exchange.HeaderEndpointSelection && hs.has(name) {
				remove = append(remove, name)
			}
		}
	}
	set := []*corev3.HeaderValueOption{setHeader(HeaderDestination, st.selected)}
	if st.id != given {
		set = append(set, setHeader(exchange.HeaderRequestID, st.id))
	}
	s.log.Debug("conformance pick", slog.String("component", component),
		slog.String("request_id", st.id), slog.String("endpoint", st.selected))
	st.answered = true
	st.phase = phaseRequestBody
	if h.GetEndOfStream() {
		st.phase = phaseRouted
	}
	return false, st.srv.Send(&extprocv3.ProcessingResponse{
		Response: &extprocv3.ProcessingResponse_RequestHeaders{
			RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{
				ClearRouteCache: true,
				HeaderMutation:  &extprocv3.HeaderMutation{SetHeaders: set, RemoveHeaders: remove},
			}},
		},
		DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			NamespaceLB: structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				HeaderDestination: structpb.NewStringValue(st.selected),
			}}),
		}},
	})
}

// responseHeaders is the response-headers answer adding the suite's report
// headers.
func (st *confStream) responseHeaders(md *corev3.Metadata) *extprocv3.ProcessingResponse {
	set := []*corev3.HeaderValueOption{
		setHeader(exchange.HeaderConformanceServed, conformanceServed(md)),
		setHeader(exchange.HeaderConformancePool, st.s.poolLabel),
	}
	if st.selected != "" {
		set = append(set, setHeader(exchange.HeaderConformanceSelected, st.selected))
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{
			HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set},
		}},
	}}
}

// conformanceServed is the served-endpoint report of a response message's
// metadata: envoy.lb's x-gateway-destination-endpoint-served, or lwepp's
// failure value naming what is missing.
func conformanceServed(md *corev3.Metadata) string {
	lb, ok := md.GetFilterMetadata()[NamespaceLB]
	if !ok {
		return conformanceNoLBMetadata
	}
	if _, ok := lb.GetFields()[HeaderDestinationServed]; !ok {
		return conformanceNoServedMetadata
	}
	if a := servedAddress(md); a != "" {
		return a
	}
	return conformanceNoServedMetadata
}

// conformancePick returns the next endpoint, round-robin, among the pool's
// endpoints that the selection header (when set) or else the subset hint
// (when set) allows; nil when none qualifies.
func (s *Server) conformancePick(selection string, sub *subset) *pool.Endpoint {
	eps := s.router.Endpoints(s.pool)
	allow := func(*pool.Endpoint) bool { return true }
	if sel := parseSelection(selection); sel != nil {
		allow = sel.allows
	} else if sub != nil {
		allow = sub.allows
	}
	n := 0
	for _, ep := range eps {
		if allow(ep) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	k := int(s.rr.Add(1)-1) % n
	for _, ep := range eps {
		if allow(ep) {
			if k == 0 {
				return ep
			}
			k--
		}
	}
	return nil
}

// selection is the test-epp-endpoint-selection header: hosts whose every
// port qualifies and exact ip:port addresses.
type selection struct {
	hosts, addrs map[string]struct{}
}

// parseSelection reads a comma-separated selection (at most
// maxSubsetEntries entries of at most maxAddressBytes); nil when the value
// names nothing, so that the header counts as absent, as lwepp does.
func parseSelection(v string) *selection {
	sel := &selection{hosts: map[string]struct{}{}, addrs: map[string]struct{}{}}
	for i, e := range strings.Split(v, ",") {
		if i >= maxSubsetEntries {
			break
		}
		e = strings.TrimSpace(e)
		if e == "" || len(e) > maxAddressBytes {
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			sel.addrs[net.JoinHostPort(h, p)] = struct{}{}
		} else {
			sel.hosts[strings.Trim(e, "[]")] = struct{}{}
		}
	}
	if len(sel.hosts) == 0 && len(sel.addrs) == 0 {
		return nil
	}
	return sel
}

// allows reports whether ep is selected.
func (sel *selection) allows(ep *pool.Endpoint) bool {
	a := ep.Address()
	if _, ok := sel.addrs[a]; ok {
		return true
	}
	_, ok := sel.hosts[hostOf(a)]
	return ok
}
