package envoystandin

import (
	"errors"
	"net/http"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// Metadata names of the endpoint picker protocol.
const (
	// LBNamespace is the dynamic metadata namespace of the destination
	// (picker → proxy) and of the served endpoint (proxy → picker).
	LBNamespace = "envoy.lb"
	// ServedKey names the endpoint that served the request, sent by the
	// stand-in on every response-path message under LBNamespace.
	ServedKey = "x-gateway-destination-endpoint-served"
	// SubsetHintNamespace is the request metadata namespace of the subset
	// hint (proxy → picker).
	SubsetHintNamespace = "envoy.lb.subset_hint"
	// SubsetHintKey holds the subset hint, a list of "ip:port" strings.
	SubsetHintKey = "x-gateway-destination-endpoint-subset"
	// SubsetHeader is a stand-in control header (not an Envoy one): its
	// comma-separated ip:port list becomes the request's subset hint, an
	// empty value an empty hint. The stand-in removes it before the picker
	// and upstream see the request.
	SubsetHeader = "x-envoy-standin-subset"
	// maxSubsetEntries bounds a subset hint taken from SubsetHeader.
	maxSubsetEntries = 1024
)

// errSubsetTooLarge rejects a SubsetHeader with too many entries.
var errSubsetTooLarge = errors.New("subset hint has more than 1024 entries")

// subsetFromHeader reads SubsetHeader from r: the endpoints, whether the
// header is present, and an error when it is too large.
func subsetFromHeader(r *http.Request) ([]string, bool, error) {
	values, ok := r.Header[http.CanonicalHeaderKey(SubsetHeader)]
	if !ok {
		return nil, false, nil
	}
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				if len(out) == maxSubsetEntries {
					return nil, true, errSubsetTooLarge
				}
				out = append(out, e)
			}
		}
	}
	return out, true, nil
}

// subsetMetadata is the metadata_context carrying a subset hint.
func subsetMetadata(endpoints []string) *corev3.Metadata {
	list := make([]*structpb.Value, len(endpoints))
	for i, e := range endpoints {
		list[i] = structpb.NewStringValue(e)
	}
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		SubsetHintNamespace: {Fields: map[string]*structpb.Value{
			SubsetHintKey: structpb.NewListValue(&structpb.ListValue{Values: list}),
		}},
	}}
}

// servedMetadata is the metadata_context naming the endpoint that served.
func servedMetadata(addr string) *corev3.Metadata {
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		LBNamespace: {Fields: map[string]*structpb.Value{ServedKey: structpb.NewStringValue(addr)}},
	}}
}

// mergeDynamicMetadata merges a ProcessingResponse's dynamic_metadata into
// dst, namespace by namespace, a later field replacing an earlier one (as
// StreamInfo::setDynamicMetadata merges).
func mergeDynamicMetadata(dst map[string]*structpb.Struct, src *structpb.Struct) {
	for ns, v := range src.GetFields() {
		s := v.GetStructValue()
		if s == nil {
			continue
		}
		cur := dst[ns]
		if cur == nil {
			cur = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			dst[ns] = cur
		}
		for k, fv := range s.GetFields() {
			cur.Fields[k] = fv
		}
	}
}

// metadataDestination returns the destination the picker put in its
// envoy.lb dynamic metadata, if any.
func metadataDestination(md map[string]*structpb.Struct) (string, bool) {
	v, ok := md[LBNamespace].GetFields()[DestinationHeader]
	if !ok {
		return "", false
	}
	return v.GetStringValue(), true
}
