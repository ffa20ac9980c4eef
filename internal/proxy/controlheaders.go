package proxy

import (
	"net/http"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
)

// maxControlValueBytes is the longest control header value accepted; longer
// values get 400, like model names longer than [openai.MaxModelNameBytes].
const maxControlValueBytes = openai.MaxModelNameBytes

// controlHeaders lists every spelling of every header a client could steer
// routing with (the SLO and conformance-selection headers included). When
// control headers are not trusted they are all removed before routing, so
// they neither steer the gateway nor reach the replica.
var controlHeaders = canonical(
	exchange.HeaderObjective, exchange.HeaderObjectiveLegacy,
	exchange.HeaderModelRewrite, exchange.HeaderModelRewriteLegacy,
	exchange.HeaderFairnessID, exchange.HeaderFairnessIDLegacy,
	exchange.HeaderSLOTTFT, exchange.HeaderSLOTPOT, exchange.HeaderSLOTTFTLegacy, exchange.HeaderSLOTPOTLegacy,
	exchange.HeaderEndpointSelection,
)

// Canonical keys of the headers read, for allocation-free lookups.
var (
	objectiveKeys = canonical(exchange.HeaderObjective, exchange.HeaderObjectiveLegacy)
	rewriteKeys   = canonical(exchange.HeaderModelRewrite, exchange.HeaderModelRewriteLegacy)
	fairnessKeys  = canonical(exchange.HeaderFairnessID, exchange.HeaderFairnessIDLegacy)
)

func canonical(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = http.CanonicalHeaderKey(n)
	}
	return out
}

// controlValues are the validated control header values of one request.
type controlValues struct {
	objective, rewrite, fairnessID string
}

// readControlHeaders returns the control values of h. Untrusted, it removes
// every control header from h and returns none. Trusted, each value must be
// valid UTF-8 without control characters and at most
// [maxControlValueBytes] long; otherwise the error is a 400 naming the
// header, so no client byte reaches a label, a log or a lookup unchecked.
func readControlHeaders(h http.Header, trusted bool) (controlValues, error) {
	if !trusted {
		for _, k := range controlHeaders {
			delete(h, k)
		}
		return controlValues{}, nil
	}
	var v controlValues
	var err error
	if v.objective, err = controlValue(h, objectiveKeys); err != nil {
		return controlValues{}, err
	}
	if v.rewrite, err = controlValue(h, rewriteKeys); err != nil {
		return controlValues{}, err
	}
	if v.fairnessID, err = controlValue(h, fairnessKeys); err != nil {
		return controlValues{}, err
	}
	return v, nil
}

// controlValue returns the first non-empty value of the first spelling in
// keys that has one, validated.
func controlValue(h http.Header, keys []string) (string, error) {
	for _, k := range keys {
		vs := h[k]
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		s := vs[0]
		name := lowerHeaderName(k)
		if len(s) > maxControlValueBytes {
			return "", openai.ErrTooLong(name, maxControlValueBytes, len(s))
		}
		if !utf8.ValidString(s) || hasControlChar(s) {
			return "", openai.ErrBadRequest("Invalid '"+name+"' header: the value must be UTF-8 text without control characters.", name)
		}
		return s, nil
	}
	return "", nil
}

// lowerHeaderName maps a canonical key back to the documented lower-case
// spelling, for error messages.
func lowerHeaderName(k string) string {
	for _, n := range []string{exchange.HeaderObjective, exchange.HeaderObjectiveLegacy, exchange.HeaderModelRewrite,
		exchange.HeaderModelRewriteLegacy, exchange.HeaderFairnessID, exchange.HeaderFairnessIDLegacy} {
		if http.CanonicalHeaderKey(n) == k {
			return n
		}
	}
	return k
}

// hasControlChar reports whether s holds an ASCII control character.
func hasControlChar(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
