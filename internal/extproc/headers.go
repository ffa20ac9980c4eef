package extproc

import (
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// Protocol names: Envoy's pseudo-headers and the endpoint picker protocol's
// headers and metadata keys.
const (
	headerPath          = ":path"
	headerMethod        = ":method"
	headerStatus        = ":status"
	headerContentType   = "content-type"
	headerContentLength = "content-length"

	// HeaderDestination carries the chosen endpoint's ip:port to Envoy (a
	// request header and an envoy.lb dynamic metadata key).
	HeaderDestination = "x-gateway-destination-endpoint"
	// HeaderDestinationServed is the envoy.lb metadata key holding the
	// endpoint that served the request, on response messages.
	HeaderDestinationServed = "x-gateway-destination-endpoint-served"
	// HeaderDestinationSubset is the metadata key of Envoy's subset hint,
	// a list of ip:port the pick must stay within.
	HeaderDestinationSubset = "x-gateway-destination-endpoint-subset"
	// HeaderDestinationScores is the envoy.lb metadata key of the
	// candidates' scores (opt-in).
	HeaderDestinationScores = "x-gateway-destination-endpoint-scores"
	// NamespaceLB is the dynamic metadata namespace of the decision and of
	// the served endpoint.
	NamespaceLB = "envoy.lb"
	// NamespaceSubsetHint is the request metadata namespace of the subset
	// hint.
	NamespaceSubsetHint = "envoy.lb.subset_hint"
)

// maxHeaderValueBytes bounds a header value this package reads (the path,
// the request ID, the status, the content type); longer values are treated
// as absent, or for the path, as unknown.
const maxHeaderValueBytes = 8 << 10

// headers is one message's header list, looked up by lower-case name.
type headers []*corev3.HeaderValue

// headersOf returns the header list of m (nil-safe).
func headersOf(m *corev3.HeaderMap) headers {
	if m == nil {
		return nil
	}
	return m.GetHeaders()
}

// get returns the first value of the header named name (lower case), "" when
// absent or longer than [maxHeaderValueBytes]. Envoy sends header names in
// lower case and the value in raw_value; the older value field is read when
// raw_value is empty.
func (h headers) get(name string) string {
	for _, hv := range h {
		if hv == nil || !strings.EqualFold(hv.GetKey(), name) {
			continue
		}
		v := hv.GetRawValue()
		if len(v) == 0 {
			if s := hv.GetValue(); len(s) <= maxHeaderValueBytes {
				return s
			}
			return ""
		}
		if len(v) > maxHeaderValueBytes {
			return ""
		}
		return string(v)
	}
	return ""
}

// has reports whether a header named name (lower case) is present.
func (h headers) has(name string) bool {
	for _, hv := range h {
		if hv != nil && strings.EqualFold(hv.GetKey(), name) {
			return true
		}
	}
	return false
}

// pathOnly returns the path of a :path value without its query.
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// statusOf returns the numeric :status, 0 when absent or not a status.
func statusOf(s string) int {
	if len(s) != 3 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0
	}
	return n
}

// isEventStream reports whether a content type is an SSE stream.
func isEventStream(ct string) bool {
	return len(ct) >= len("text/event-stream") && strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream")
}

// setHeader returns a header mutation entry that sets name to value,
// replacing any value it had.
func setHeader(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, RawValue: []byte(value)},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}
