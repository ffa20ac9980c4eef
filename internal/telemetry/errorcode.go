package telemetry

import "github.com/infergate/infergate/internal/exchange"

// Error codes for [RequestObservation.ErrorCode] and the error_code label of
// inference_objective_request_error_total: the exchange's vocabulary (see
// there for their meaning), mirrored here. Any other non-empty string is
// recorded as [ErrorUnknown], which keeps the label bounded even if a caller
// passes something unexpected.
const (
	// ErrorBadRequest means the client's request was malformed, missing the model,
	// or too large (HTTP 400/413).
	ErrorBadRequest = exchange.ErrorBadRequest
	// ErrorNotFound means the requested model is not served by the pool (HTTP 404
	// model_not_found).
	ErrorNotFound = exchange.ErrorNotFound
	// ErrorResourceExhausted means the request was shed because the pool is
	// saturated (HTTP 429). Upstream calls this InferencePoolResourceExhausted.
	ErrorResourceExhausted = exchange.ErrorResourceExhausted
	// ErrorServiceUnavailable means no endpoint could take the request (HTTP 503).
	ErrorServiceUnavailable = exchange.ErrorServiceUnavailable
	// ErrorInternal means a gateway bug (HTTP 500).
	ErrorInternal = exchange.ErrorInternal
	// ErrorModelServerError means the model server answered with an error status or
	// sent an error in the middle of a stream.
	ErrorModelServerError = exchange.ErrorModelServerError
	// ErrorBadGateway means the model server could not be reached or broke the
	// connection (HTTP 502).
	ErrorBadGateway = exchange.ErrorBadGateway
	// ErrorTimeout means the model server did not answer in time (HTTP 504).
	ErrorTimeout = exchange.ErrorTimeout
	// ErrorClientClosed means the client went away before the response finished
	// (logged as 499, nothing sent).
	ErrorClientClosed = exchange.ErrorClientClosed
	// ErrorUnknown replaces any code not in this list.
	ErrorUnknown = exchange.ErrorUnknown
)

// knownErrorCode reports whether code is one of the documented error codes.
func knownErrorCode(code string) bool {
	switch code {
	case ErrorBadRequest, ErrorNotFound, ErrorResourceExhausted, ErrorServiceUnavailable, ErrorInternal,
		ErrorModelServerError, ErrorBadGateway, ErrorTimeout, ErrorClientClosed, ErrorUnknown:
		return true
	}
	return false
}
