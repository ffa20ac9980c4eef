package exchange

import (
	"context"
	"errors"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
)

// Errors a front end reports to [Exchange.Fail] or [Exchange.UpstreamFailed]
// besides the router's, the admission's and [*openai.Error]s.
var (
	// ErrBodyTooLarge: the request body is past the size limit (413).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrReadBody: the request body could not be read (400).
	ErrReadBody = errors.New("reading request body")
	// ErrClosedEarly: the upstream body was abandoned before its end, as
	// when the client stopped taking it.
	ErrClosedEarly = errors.New("response body closed before the end")
	// ErrBodyTimeout: the request body did not arrive in time (408).
	ErrBodyTimeout = errors.New("request body did not arrive in time")
	// ErrSaturated: a gateway capacity limit (in-flight cap, body budget)
	// refused the request (503).
	ErrSaturated = errors.New("gateway at capacity")
	// ErrFirstByteTimeout: the upstream sent no response headers in time (504).
	ErrFirstByteTimeout = errors.New("upstream first-byte timeout")
)

// StatusClientClosed is the (nginx-style) status logged when the client went
// away; it is never sent.
const StatusClientClosed = 499

// statusRequestTimeout is HTTP 408.
const statusRequestTimeout = 408

// errGatewayBusy is the answer to [ErrSaturated].
func errGatewayBusy() *openai.Error {
	return openai.NewError(openai.StatusServiceUnavailable, openai.TypeServer, openai.CodeServerOverloaded, "",
		"The gateway is at capacity; please retry after a short wait.")
}

// errQueueTimeout is the answer to [admission.ErrTTLExpired] (429).
func errQueueTimeout() *openai.Error {
	return openai.NewError(openai.StatusTooManyRequests, openai.TypeRateLimit, openai.CodeServerOverloaded, "",
		"The request waited too long for a free model server; please retry later.")
}

// errShuttingDown is the answer to [admission.ErrShuttingDown] (503).
func errShuttingDown() *openai.Error {
	return openai.NewError(openai.StatusServiceUnavailable, openai.TypeServer, openai.CodeServerOverloaded, "",
		"The gateway is shutting down; please retry.")
}

// ErrTooManyConns is the answer to a request on a connection past the
// connection limits (503).
func ErrTooManyConns() *openai.Error {
	return openai.NewError(openai.StatusServiceUnavailable, openai.TypeServer, openai.CodeServerOverloaded, "",
		"Too many connections from this client; please retry after a short wait.")
}

func errBodyTimeoutErr() *openai.Error {
	return openai.NewError(statusRequestTimeout, openai.TypeInvalidRequest, "request_timeout", "",
		"The request body did not arrive in time.")
}

// statusFor maps an error from reading, parsing, routing or forwarding to the
// OpenAI error the client receives and the error code it is recorded under.
// It is the one place where internal errors become statuses.
func statusFor(err error, model string) (*openai.Error, string) {
	if oe, ok := errors.AsType[*openai.Error](err); ok {
		code := ErrorBadRequest
		if oe.Status == openai.StatusNotFound {
			code = ErrorNotFound
		}
		return oe, code
	}
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return openai.ErrBodyTooLarge(0), ErrorBadRequest
	case errors.Is(err, ErrBodyTimeout):
		return errBodyTimeoutErr(), ErrorTimeout
	case errors.Is(err, ErrSaturated):
		return errGatewayBusy(), ErrorResourceExhausted
	case errors.Is(err, ErrReadBody):
		return openai.ErrBadRequest("The request body could not be read.", ""), ErrorBadRequest
	case errors.Is(err, router.ErrModelNotFound):
		return openai.ErrModelNotFound(model), ErrorNotFound
	case errors.Is(err, admission.ErrShed), errors.Is(err, admission.ErrQueueFull):
		return openai.ErrShed(), ErrorResourceExhausted
	case errors.Is(err, admission.ErrTTLExpired):
		return errQueueTimeout(), ErrorResourceExhausted
	case errors.Is(err, admission.ErrNoEndpoints):
		return openai.ErrNoEndpoint(), ErrorServiceUnavailable
	case errors.Is(err, admission.ErrShuttingDown):
		return errShuttingDown(), ErrorServiceUnavailable
	case errors.Is(err, scheduler.ErrNoEndpoint):
		return openai.ErrNoEndpoint(), ErrorServiceUnavailable
	case errors.Is(err, ErrFirstByteTimeout):
		return openai.ErrUpstreamTimeout(), ErrorTimeout
	case errors.Is(err, context.Canceled):
		return openai.NewError(StatusClientClosed, "", "", "", "client closed request"), ErrorClientClosed
	default:
		return openai.ErrUpstream(), ErrorBadGateway
	}
}

// droppedReason is the [HeaderDroppedReason] value for an admission
// rejection by err, "" when err is not one.
func droppedReason(err error) string {
	switch {
	case errors.Is(err, ErrSaturated), errors.Is(err, admission.ErrShed), errors.Is(err, admission.ErrQueueFull):
		return DroppedSaturated
	case errors.Is(err, scheduler.ErrNoEndpoint), errors.Is(err, admission.ErrNoEndpoints):
		return DroppedNoEndpoints
	case errors.Is(err, admission.ErrTTLExpired):
		return DroppedTTLExpired
	case errors.Is(err, admission.ErrShuttingDown):
		return DroppedShuttingDown
	case errors.Is(err, context.Canceled):
		return DroppedContextCancelled
	}
	return ""
}
