package exchange

// Error codes of a finished request ([Record.ErrorCode]; the error_code
// label of inference_objective_request_error_total). BadRequest, Internal,
// ServiceUnavailable and ModelServerError are upstream's values with
// upstream's meaning; the others are finer-grained codes infergate adds, so a
// dashboard can tell shedding, timeouts and impatient clients apart.
const (
	// ErrorBadRequest means the client's request was malformed, missing the model,
	// or too large (HTTP 400/413).
	ErrorBadRequest = "BadRequest"
	// ErrorNotFound means the requested model is not served by the pool (HTTP 404
	// model_not_found).
	ErrorNotFound = "NotFound"
	// ErrorResourceExhausted means the request was shed because the pool is
	// saturated (HTTP 429). Upstream calls this InferencePoolResourceExhausted.
	ErrorResourceExhausted = "ResourceExhausted"
	// ErrorServiceUnavailable means no endpoint could take the request (HTTP 503).
	ErrorServiceUnavailable = "ServiceUnavailable"
	// ErrorInternal means a gateway bug (HTTP 500).
	ErrorInternal = "Internal"
	// ErrorModelServerError means the model server answered with an error status or
	// sent an error in the middle of a stream.
	ErrorModelServerError = "ModelServerError"
	// ErrorBadGateway means the model server could not be reached or broke the
	// connection (HTTP 502).
	ErrorBadGateway = "BadGateway"
	// ErrorTimeout means the model server did not answer in time (HTTP 504).
	ErrorTimeout = "Timeout"
	// ErrorClientClosed means the client went away before the response finished
	// (logged as 499, nothing sent).
	ErrorClientClosed = "ClientClosed"
	// ErrorUnknown replaces any code not in this list.
	ErrorUnknown = "Unknown"
)

// UnknownModelName is the model a request is recorded under when it never
// got routed: the name is the client's alone and must not become a label.
const UnknownModelName = "unknown"
