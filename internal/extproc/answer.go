package extproc

import (
	"encoding/json"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
)

// retryAfterSeconds is the Retry-After of every admission rejection here
// (DESIGN's table: 1 s for shedding, the in-flight cap and empty subsets).
const retryAfterSeconds = "1"

// sendImmediate answers the request with e as an OpenAI error body and, for
// an admission rejection (dropped != ""), the dropped-reason header and
// Retry-After.
func (st *stream) sendImmediate(e *openai.Error, dropped string) error {
	if e == nil || e.Status < 100 || e.Status > 599 {
		e = openai.ErrInternal()
	}
	body := e.AppendJSON(make([]byte, 0, 96+len(e.Message)+len(e.Type)+len(e.Param)+len(e.Code)))
	body = append(body, '\n')
	set := []*corev3.HeaderValueOption{
		setHeader(headerContentType, "application/json"),
		setHeader(exchange.HeaderRequestID, st.id),
	}
	if dropped != "" {
		set = append(set, setHeader(exchange.HeaderDroppedReason, dropped), setHeader("retry-after", retryAfterSeconds))
	}
	return st.immediate(e.Status, set, body, "infergate_rejected")
}

// sendModels answers GET /v1/models with the union of known models, the
// same JSON the proxy writes.
func (st *stream) sendModels() error {
	body, err := json.Marshal(st.s.ex.Models(st.s.router.Models()))
	if err != nil {
		return st.sendImmediate(openai.ErrInternal(), "")
	}
	body = append(body, '\n')
	set := []*corev3.HeaderValueOption{
		setHeader(headerContentType, "application/json"),
		setHeader(exchange.HeaderRequestID, st.id),
	}
	return st.immediate(200, set, body, "infergate_models")
}

// immediate sends an ImmediateResponse; details names it in Envoy's
// %RESPONSE_CODE_DETAILS%.
func (st *stream) immediate(code int, set []*corev3.HeaderValueOption, body []byte, details string) error {
	st.answered = true
	return st.srv.Send(&extprocv3.ProcessingResponse{
		Response: &extprocv3.ProcessingResponse_ImmediateResponse{
			ImmediateResponse: &extprocv3.ImmediateResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode(code)},
				Headers: &extprocv3.HeaderMutation{SetHeaders: set},
				Body:    body,
				Details: details,
			},
		},
	})
}

// decision is the request-headers response carrying dec: the destination
// header (the endpoint alone), the body's length, the request ID when it
// was generated or replaced, untrusted control headers removed, the route
// cache cleared, and the envoy.lb metadata.
func (st *stream) decision(dec *router.Decision, bodyLen int) *extprocv3.ProcessingResponse {
	addr := dec.Endpoint.Address()
	set := []*corev3.HeaderValueOption{
		setHeader(HeaderDestination, addr),
		setHeader(headerContentLength, strconv.Itoa(bodyLen)),
	}
	if st.idChanged {
		set = append(set, setHeader(exchange.HeaderRequestID, st.id))
	}
	if st.trace != nil {
		set = append(set, st.trace.traceparent()...)
	}
	return &extprocv3.ProcessingResponse{
		Response: &extprocv3.ProcessingResponse_RequestHeaders{
			RequestHeaders: &extprocv3.HeadersResponse{
				Response: &extprocv3.CommonResponse{
					ClearRouteCache: true,
					HeaderMutation:  &extprocv3.HeaderMutation{SetHeaders: set, RemoveHeaders: st.remove},
				},
			},
		},
		DynamicMetadata: st.metadata(addr),
	}
}

// metadata is the envoy.lb dynamic metadata of a decision for addr: the
// destination (with the opt-in fallbacks after it, comma-separated) and the
// opt-in scores of every candidate.
func (st *stream) metadata(addr string) *structpb.Struct {
	s := st.s
	dest := addr
	cands := st.ranking.Candidates
	if s.fallbacks > 0 && len(cands) > 1 {
		var b strings.Builder
		b.WriteString(addr)
		for i, c := range cands[1:] {
			if i >= s.fallbacks {
				break
			}
			b.WriteByte(',')
			b.WriteString(c.Endpoint.Address())
		}
		dest = b.String()
	}
	lb := map[string]*structpb.Value{HeaderDestination: structpb.NewStringValue(dest)}
	if s.scores && len(cands) > 0 {
		scores := make(map[string]*structpb.Value, len(cands))
		for _, c := range cands {
			scores[c.Endpoint.Address()] = structpb.NewNumberValue(c.Score)
		}
		lb[HeaderDestinationScores] = structpb.NewStructValue(&structpb.Struct{Fields: scores})
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		NamespaceLB: structpb.NewStructValue(&structpb.Struct{Fields: lb}),
	}}
}

// bodyResponse is a FULL_DUPLEX_STREAMED body piece for the request
// (request true) or the response.
func bodyResponse(request bool, body []byte, eos bool) *extprocv3.ProcessingResponse {
	br := &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
			StreamedResponse: &extprocv3.StreamedBodyResponse{Body: body, EndOfStream: eos},
		}},
	}}
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: br}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: br}}
}

// trailersResponse lets the request's (request true) or the response's
// trailers through unchanged.
func trailersResponse(request bool) *extprocv3.ProcessingResponse {
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
}

// responseHeadersResponse lets the response headers through, without
// Content-Length when dropLength (the exchange removes a chunk, so the
// length changes).
func responseHeadersResponse(dropLength bool) *extprocv3.ProcessingResponse {
	cr := &extprocv3.CommonResponse{}
	if dropLength {
		cr.HeaderMutation = &extprocv3.HeaderMutation{RemoveHeaders: []string{headerContentLength}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: cr},
	}}
}
