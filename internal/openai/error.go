package openai

import (
	"strconv"
	"unicode/utf8"
)

// Error types used in the "type" member of error bodies. The OpenAI SDKs
// pick their exception class from the HTTP status, so these are informative.
const (
	// TypeInvalidRequest marks a problem with the client's request (4xx).
	TypeInvalidRequest = "invalid_request_error"
	// TypeRateLimit marks a request shed because the gateway or its replicas
	// are saturated (429).
	TypeRateLimit = "rate_limit_exceeded"
	// TypeServer marks a failure on the gateway's side or behind it (5xx).
	TypeServer = "server_error"
)

// Error is an OpenAI-shaped API error: an HTTP status plus the members of
// the JSON body {"error":{"message","type","param","code"}}. Message is
// shown to clients, so it is a stable sentence that never contains internal
// error text or request content. Param and Code are null in the body when
// empty.
type Error struct {
	// Status is the HTTP status code, one of the Status constants for the
	// errors this package builds.
	Status int
	// Message is the "message" member, shown to clients.
	Message string
	// Type is the "type" member, one of the Type constants.
	Type string
	// Param is the "param" member, the offending request member or "".
	Param string
	// Code is the "code" member, one of the Code constants or "".
	Code string
}

// NewError returns an Error with the given status, type, code, param and
// message.
func NewError(status int, typ, code, param, message string) *Error {
	return &Error{Status: status, Message: message, Type: typ, Param: param, Code: code}
}

// Error returns a one-line description for logs: status, type, code and message.
func (e *Error) Error() string {
	s := "openai error " + strconv.Itoa(e.Status) + " " + e.Type
	if e.Code != "" {
		s += "/" + e.Code
	}
	return s + ": " + e.Message
}

// AppendJSON appends the error's response body (without a trailing newline)
// to dst. Transports write it with [Error.Status]; internal/openaihttp does
// so for net/http.
func (e *Error) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = appendQuoted(dst, e.Message)
	dst = append(dst, `,"type":`...)
	dst = appendQuoted(dst, e.Type)
	dst = append(dst, `,"param":`...)
	dst = appendQuotedOrNull(dst, e.Param)
	dst = append(dst, `,"code":`...)
	dst = appendQuotedOrNull(dst, e.Code)
	return append(dst, "}}"...)
}

func appendQuotedOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendQuoted(dst, s)
}

// Codes used by the constructors below, in the "code" member.
const (
	CodeInvalidJSON              = "invalid_json"
	CodeMissingRequiredParameter = "missing_required_parameter"
	CodeInvalidType              = "invalid_type"
	CodeInvalidValue             = "invalid_value"
	CodeEmptyArray               = "empty_array"
	CodeStringAboveMaxLength     = "string_above_max_length"
	CodeModelNotFound            = "model_not_found"
	CodeRequestTooLarge          = "request_too_large"
	CodeServerOverloaded         = "server_overloaded"
	CodeNoEndpoint               = "no_endpoint_available"
	CodeUpstreamError            = "upstream_error"
	CodeUpstreamTimeout          = "upstream_timeout"
	CodeInternal                 = "internal_error"
)

// ErrBadRequest returns a 400 invalid_request_error with no code. msg must
// not contain request content; param names the offending member or is "".
func ErrBadRequest(msg, param string) *Error {
	return NewError(StatusBadRequest, TypeInvalidRequest, "", param, msg)
}

// maxEchoedModel bounds how much of a client-supplied model name an error
// message repeats.
const maxEchoedModel = 256

// ErrModelNotFound returns a 404 invalid_request_error with code
// model_not_found, naming the model (cut to 256 bytes).
func ErrModelNotFound(model string) *Error {
	if len(model) > maxEchoedModel {
		cut := maxEchoedModel
		for cut > 0 && !utf8.RuneStart(model[cut]) {
			cut--
		}
		model = model[:cut] + "…"
	}
	return NewError(StatusNotFound, TypeInvalidRequest, CodeModelNotFound, "model",
		"The model `"+model+"` does not exist or you do not have access to it.")
}

// ErrBodyTooLarge returns a 413 invalid_request_error with code
// request_too_large for a body over limit bytes.
func ErrBodyTooLarge(limit int64) *Error {
	return NewError(StatusRequestEntityTooLarge, TypeInvalidRequest, CodeRequestTooLarge, "",
		"The request body is too large; the limit is "+strconv.FormatInt(limit, 10)+" bytes.")
}

// ErrShed returns a 429 of type rate_limit_exceeded with code
// server_overloaded: the request was shed because the pool is saturated, not
// because this client exceeded a quota. The caller adds Retry-After.
func ErrShed() *Error {
	return NewError(StatusTooManyRequests, TypeRateLimit, CodeServerOverloaded, "",
		"The model servers are overloaded; please retry after a short wait.")
}

// ErrNoEndpoint returns a 503 server_error with code no_endpoint_available:
// no ready replica serves the model.
func ErrNoEndpoint() *Error {
	return NewError(StatusServiceUnavailable, TypeServer, CodeNoEndpoint, "",
		"No model server is available for this model right now; please retry later.")
}

// ErrUpstream returns a 502 server_error with code upstream_error: the
// replica could not be reached or failed before answering.
func ErrUpstream() *Error {
	return NewError(StatusBadGateway, TypeServer, CodeUpstreamError, "",
		"The model server failed to answer the request.")
}

// ErrUpstreamCut returns a 502 server_error with code upstream_error for a
// response the model server broke off mid-way (sent in-band, as the last
// event of a stream).
func ErrUpstreamCut() *Error {
	return NewError(StatusBadGateway, TypeServer, CodeUpstreamError, "",
		"The model server broke off the response before it was complete.")
}

// ErrUpstreamStalled returns a 504 server_error with code upstream_timeout
// for a response the model server stopped sending mid-way (sent in-band, as
// the last event of a stream).
func ErrUpstreamStalled() *Error {
	return NewError(StatusGatewayTimeout, TypeServer, CodeUpstreamTimeout, "",
		"The model server stopped sending the response before it was complete.")
}

// ErrUpstreamTimeout returns a 504 server_error with code upstream_timeout.
func ErrUpstreamTimeout() *Error {
	return NewError(StatusGatewayTimeout, TypeServer, CodeUpstreamTimeout, "",
		"The model server did not answer in time.")
}

// ErrInternal returns a 500 server_error with code internal_error, for bugs.
func ErrInternal() *Error {
	return NewError(StatusInternalServerError, TypeServer, CodeInternal, "",
		"The gateway hit an internal error.")
}

// ErrTooLong returns the 400 for a client-supplied string (a body member or a
// header, named by param) longer than limit bytes.
func ErrTooLong(param string, limit, got int) *Error {
	return NewError(StatusBadRequest, TypeInvalidRequest, CodeStringAboveMaxLength, param,
		"Invalid '"+param+"': string too long. Expected a string with maximum length "+
			strconv.Itoa(limit)+" bytes, but got a string with length "+strconv.Itoa(got)+" instead.")
}
