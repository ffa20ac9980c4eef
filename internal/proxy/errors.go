package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/telemetry"
)

var (
	errBodyTooLarge = errors.New("request body too large")
	errReadBody     = errors.New("reading request body")
	errClosedEarly  = errors.New("response body closed before the end")
	errBodyTimeout  = errors.New("request body did not arrive in time")
	errSaturated    = errors.New("gateway at capacity")
)

// Gateway-capacity errors (no constructor in openai: these are the proxy's own).
func errGatewayBusy() *openai.Error {
	return openai.NewError(http.StatusServiceUnavailable, openai.TypeServer, openai.CodeServerOverloaded, "",
		"The gateway is at capacity; please retry after a short wait.")
}

func errTooManyConns() *openai.Error {
	return openai.NewError(http.StatusServiceUnavailable, openai.TypeServer, openai.CodeServerOverloaded, "",
		"Too many connections from this client; please retry after a short wait.")
}

func errBodyTimeoutErr() *openai.Error {
	return openai.NewError(http.StatusRequestTimeout, openai.TypeInvalidRequest, "request_timeout", "",
		"The request body did not arrive in time.")
}

// isTimeout reports whether err is a connection deadline passing.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// Telemetry error codes (the error_code label of request_error_total).
const (
	codeBadRequest         = telemetry.ErrorBadRequest
	codeNotFound           = telemetry.ErrorNotFound
	codeTooLarge           = telemetry.ErrorBadRequest
	codeShed               = telemetry.ErrorResourceExhausted
	codeServiceUnavailable = telemetry.ErrorServiceUnavailable
	codeBadGateway         = telemetry.ErrorBadGateway
	codeTimeout            = telemetry.ErrorTimeout
	codeClientClosed       = telemetry.ErrorClientClosed
	codeModelServerError   = telemetry.ErrorModelServerError
)

// statusClientClosed is the (nginx-style) status logged when the client went
// away; it is never sent.
const statusClientClosed = 499

// statusFor maps an error from reading, parsing, routing or forwarding to the
// OpenAI error the client receives and the telemetry error code. It is the one
// place where internal errors become statuses.
func statusFor(err error, model string) (*openai.Error, string) {
	if oe, ok := errors.AsType[*openai.Error](err); ok {
		code := codeBadRequest
		if oe.Status == http.StatusNotFound {
			code = codeNotFound
		}
		return oe, code
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		return openai.ErrBodyTooLarge(0), codeTooLarge
	case errors.Is(err, errBodyTimeout):
		return errBodyTimeoutErr(), codeTimeout
	case errors.Is(err, errSaturated):
		return errGatewayBusy(), codeShed
	case errors.Is(err, errReadBody):
		return openai.ErrBadRequest("The request body could not be read.", ""), codeBadRequest
	case errors.Is(err, router.ErrModelNotFound):
		return openai.ErrModelNotFound(model), codeNotFound
	case errors.Is(err, admission.ErrShed):
		return openai.ErrShed(), codeShed
	case errors.Is(err, scheduler.ErrNoEndpoint):
		return openai.ErrNoEndpoint(), codeServiceUnavailable
	case errors.Is(err, errFirstByteTimeout):
		return openai.ErrUpstreamTimeout(), codeTimeout
	case errors.Is(err, context.Canceled):
		return openai.NewError(statusClientClosed, "", "", "", "client closed request"), codeClientClosed
	default:
		return openai.ErrUpstream(), codeBadGateway
	}
}

// errorHandler is the ReverseProxy's error hook: the upstream could not be
// reached, timed out, or the client went away before a response started.
func (h *Handler) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeFrom(r.Context())
	switch {
	case x.timedOut.Load():
		err = errFirstByteTimeout
	case r.Context().Err() != nil && !x.timedOut.Load():
		err = context.Canceled
	}
	e, code := statusFor(err, x.req.Model)
	x.status, x.errorCode = e.Status, code
	if e.Status == statusClientClosed {
		return // nobody to answer
	}
	h.log.Warn("upstream request failed", "request_id", x.id, "endpoint", endpointName(x), "attempts", x.attempts, "err", err)
	writeError(w, e)
}
