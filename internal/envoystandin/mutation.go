package envoystandin

import (
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// mutationRules selects the header mutation rules Envoy applies.
type mutationRules int

const (
	// filterRules are Envoy's default HeaderMutationRules: system headers
	// cannot be removed, routing headers (host, :authority, :scheme,
	// :method) and x-envoy-* cannot be changed; disallowed mutations are
	// ignored, not errors.
	filterRules mutationRules = iota
	// immediateRules are the permissive rules Envoy uses for an
	// ImmediateResponse (allow_all_routing, allow_envoy).
	immediateRules
)

// mutationError is an invalid mutation, worded as Envoy words it (the text
// becomes the response details).
type mutationError string

// Error implements error.
func (e mutationError) Error() string { return string(e) }

// Envoy's invalid-mutation messages.
const (
	errInvalidRemove    mutationError = "Invalid character in remove_headers mutation."
	errInvalidSet       mutationError = "Invalid character in set_headers mutation."
	errValueAndRawValue mutationError = "Only one of value or raw_value in the HeaderValue message should be set."
)

// applyHeaderMutation applies m to h as Envoy's ext_proc filter does:
// removals first, then set_headers in order (append when append is true,
// otherwise replace). The value is read from raw_value only (Envoy's
// send_header_raw_value behaviour), so a mutation that fills value alone sets
// an empty header. skipContentLength drops content-length settings, as Envoy
// does when the body is streamed. It returns how many mutations the rules
// ignored, and an error for an invalid mutation, which Envoy answers with a
// 500 local reply whose details are the error text.
func applyHeaderMutation(h *headerList, m *extprocv3.HeaderMutation, rules mutationRules, skipContentLength bool) (ignored int, err error) {
	if m == nil {
		return 0, nil
	}
	for _, name := range m.GetRemoveHeaders() {
		if !validHeaderName(name) {
			return ignored, errInvalidRemove
		}
		key := strings.ToLower(name)
		if !mutationAllowed(rules, key, true) {
			ignored++
			continue
		}
		h.remove(key)
	}
	for _, opt := range m.GetSetHeaders() {
		hv := opt.GetHeader()
		if hv == nil {
			continue
		}
		key := strings.ToLower(hv.GetKey())
		if skipContentLength && key == "content-length" {
			continue
		}
		if hv.GetValue() != "" && len(hv.GetRawValue()) != 0 {
			return ignored, errValueAndRawValue
		}
		value := string(hv.GetRawValue())
		if !validHeaderName(hv.GetKey()) || !validHeaderValue(value) {
			return ignored, errInvalidSet
		}
		if !mutationAllowed(rules, key, false) {
			ignored++
			continue
		}
		//lint:ignore SA1019 Envoy's ext_proc filter reads the deprecated append field, not append_action.
		if opt.GetAppend().GetValue() {
			h.add(key, value)
		} else {
			h.set(key, value)
		}
	}
	return ignored, nil
}

// mutationAllowed reports whether Envoy's mutation checker lets key be set or
// removed under rules.
func mutationAllowed(rules mutationRules, key string, remove bool) bool {
	if strings.HasPrefix(key, ":") || key == "host" {
		if remove {
			return false
		}
		if rules == immediateRules {
			return true
		}
		switch key {
		case ":authority", "host", ":scheme", ":method":
			return false
		}
		return true
	}
	if rules == filterRules && strings.HasPrefix(key, "x-envoy") {
		return false
	}
	return true
}

// validHeaderName reports whether name is an RFC 9110 token, optionally
// prefixed by ':' (Envoy's HeaderUtility::headerNameIsValid, HTTP/1 rules).
func validHeaderName(name string) bool {
	name = strings.TrimPrefix(name, ":")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validHeaderValue reports whether v has no NUL, CR or LF (Envoy allows
// obs-text).
func validHeaderValue(v string) bool {
	return !strings.ContainsAny(v, "\x00\r\n")
}
