package openai

// HTTP status codes of the errors this package builds ([Error.Status]). The
// package names its own so that it needs no HTTP library; the values are the
// standard ones, and a transport writes them as they are.
const (
	// StatusBadRequest is 400 Bad Request.
	StatusBadRequest = 400
	// StatusNotFound is 404 Not Found.
	StatusNotFound = 404
	// StatusRequestEntityTooLarge is 413 Content Too Large.
	StatusRequestEntityTooLarge = 413
	// StatusTooManyRequests is 429 Too Many Requests.
	StatusTooManyRequests = 429
	// StatusInternalServerError is 500 Internal Server Error.
	StatusInternalServerError = 500
	// StatusBadGateway is 502 Bad Gateway.
	StatusBadGateway = 502
	// StatusServiceUnavailable is 503 Service Unavailable.
	StatusServiceUnavailable = 503
	// StatusGatewayTimeout is 504 Gateway Timeout.
	StatusGatewayTimeout = 504
)
