package envoystandin

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/status"
)

// DetailsClosedEarly reports a picker that ended its stream cleanly while an
// answer was awaited (see the package doc).
const DetailsClosedEarly = "envoy_standin_stream_closed_early"

// immediate sends the picker's ImmediateResponse as Envoy's local reply:
// status (200 when unset or below 200), header mutations under permissive
// rules, the body; a response already started is reset instead.
func (e *exchange) immediate(ir *extprocv3.ImmediateResponse) {
	e.res.ImmediateResponse = true
	details := envoyDetails(ir.GetDetails())
	if e.respStarted {
		e.reset(details, errors.New("immediate response after the response started"))
		return
	}
	status := int(ir.GetStatus().GetCode())
	if ir.GetStatus() == nil || status < 200 {
		status = http.StatusOK
	}
	var h headerList
	ign, err := applyHeaderMutation(&h, ir.GetHeaders(), immediateRules, false)
	e.res.IgnoredMutations += ign
	if err != nil {
		e.log.Debug("envoy stand-in: immediate response mutations failed", "err", err)
	}
	e.writeLocalReply(status, h, ir.GetBody(), details)
}

// writeLocalReply writes a local reply to the client as Envoy's
// sendLocalReply does: content-length, text/plain when a body has no
// content type. It ends the exchange's response.
func (e *exchange) writeLocalReply(status int, h headerList, body []byte, details string) {
	wh := e.w.Header()
	for _, kv := range h {
		if kv.key[0] == ':' || kv.key == "content-length" || hopByHop[kv.key] {
			continue
		}
		ck := http.CanonicalHeaderKey(kv.key)
		wh[ck] = append(wh[ck], kv.value)
	}
	if len(body) > 0 && wh.Get("Content-Type") == "" {
		wh.Set("Content-Type", "text/plain")
	}
	wh.Set("Content-Length", strconv.Itoa(len(body)))
	e.w.WriteHeader(status)
	_, _ = e.w.Write(body)
	e.respStarted = true
	e.respDone = true
	e.res.Status = status
	e.res.Details = details
}

// routerLocalReply is a local reply made by the router (after the request
// headers were processed): like Envoy's, it goes through the picker's
// response path.
func (e *exchange) routerLocalReply(status int, body, details string) bool {
	e.res.Details = details
	if e.pipeW != nil {
		_ = e.pipeW.CloseWithError(errStreamReset)
		e.pipeW = nil
	}
	hdr := http.Header{
		"Content-Type":   {"text/plain"},
		"Content-Length": {strconv.Itoa(len(body))},
	}
	rc := io.NopCloser(bytes.NewReader([]byte(body)))
	if !e.startResponse(status, hdr, rc, int64(len(body)), nil, false) {
		return false
	}
	e.res.Details = details
	return true
}

// streamFailed answers a gRPC error on the picker stream as Envoy does with
// failure_mode_allow false: 500, details ext_proc_error_gRPC_error_<code>.
func (e *exchange) streamFailed(err error) {
	if e.ctx.Err() != nil {
		e.reset(DetailsDownstreamReset, e.ctx.Err())
		return
	}
	code := status.Code(err)
	e.reset(detailsGRPCErrorPrefix+strconv.Itoa(int(code)), err)
}

// reset ends the exchange with an error: a 504 for a message timeout, a 500
// for picker errors, when no response has started; otherwise (or for a
// downstream reset) the client's stream is reset.
func (e *exchange) reset(details string, err error) {
	e.res.Details = details
	if e.res.Err == nil {
		e.res.Err = err
	}
	if details == DetailsDownstreamReset {
		return
	}
	if e.respStarted {
		if !e.respDone {
			// Envoy resets the downstream stream; net/http aborts the
			// connection on this panic, after finish has run.
			e.respDone = true
			e.abort = true
		}
		return
	}
	switch {
	case details == DetailsMessageTimeout:
		e.writeLocalReply(http.StatusGatewayTimeout, nil, nil, details)
	case details == DetailsUpstreamReset:
		e.respStarted = true // nothing can be sent; the client sees a reset
		e.abort = true
	default:
		e.writeLocalReply(http.StatusInternalServerError, nil, nil, details)
	}
}

// envoyDetails turns a message into response details as Envoy does
// (StringUtil::replaceAllEmptySpace).
func envoyDetails(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return '_'
		}
		return r
	}, s)
}
