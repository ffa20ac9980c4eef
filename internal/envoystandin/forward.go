package envoystandin

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
)

// Envoy's local reply bodies for upstream failures.
const (
	noHealthyUpstreamBody = "no healthy upstream"
	connectFailureBody    = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure"
	connTerminationBody   = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
)

// DetailsConnTermination is Envoy's details for an upstream that closed the
// connection before answering (503).
const DetailsConnTermination = "upstream_reset_before_response_started{connection_termination}"

// route is the router with the ORIGINAL_DST cluster: it picks the
// destination from the header and starts the upstream request.
func (e *exchange) route() bool {
	dest, ok := e.reqHeaders.get(DestinationHeader)
	e.res.Destination = dest
	ap, valid := ParseDestination(dest)
	if !ok || !valid {
		// ORIGINAL_DST finds no host: the router's local reply.
		return e.routerLocalReply(http.StatusServiceUnavailable, noHealthyUpstreamBody, DetailsNoHealthy)
	}
	if md, ok := metadataDestination(e.res.DynamicMetadata); ok && md != dest && !e.cfg.AllowMetadataMismatch {
		e.writeLocalReply(http.StatusServiceUnavailable, nil,
			[]byte("x-gateway-destination-endpoint header and envoy.lb metadata disagree"), DetailsMetadataMismatch)
		return false
	}
	req, err := e.upstreamRequest(ap.String())
	if err != nil {
		e.writeLocalReply(http.StatusInternalServerError, nil, nil, DetailsInvalidPath)
		return false
	}
	e.served = ap.String()
	e.upstreamPending = true
	e.upstreamStart = e.cfg.Now()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		resp, err := e.s.upstream.RoundTrip(req)
		e.upstreamC <- upstreamResult{resp, err}
	}()
	return true
}

// upstreamRequest builds the request forwarded to addr from the mutated
// headers. A request with a body streams it through a pipe that the
// picker's body answers feed, chunked, as Envoy removes content-length.
func (e *exchange) upstreamRequest(addr string) (*http.Request, error) {
	path, _ := e.reqHeaders.get(":path")
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = "http", addr
	method, _ := e.reqHeaders.get(":method")
	authority, _ := e.reqHeaders.get(":authority")
	req := (&http.Request{
		Method: method, URL: u, Host: authority,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: e.reqHeaders.httpHeader(),
		Body:   http.NoBody,
	}).WithContext(e.ctx)
	if !e.bodiless {
		pr, pw := io.Pipe()
		e.pipeW = pw
		req.Body = pr
		req.ContentLength = -1
		e.upTrailer = http.Header{}
		for _, k := range e.declaredTrailers {
			e.upTrailer[http.CanonicalHeaderKey(k)] = nil
		}
		req.Trailer = e.upTrailer
	}
	return req, nil
}

// writeUpstreamBody forwards picker body bytes upstream; they are dropped
// when no upstream request is running (a local reply is under way or the
// upstream request already ended).
func (e *exchange) writeUpstreamBody(b []byte) {
	if e.pipeW != nil && len(b) > 0 {
		_, _ = e.pipeW.Write(b)
	}
}

// endUpstreamBody ends the upstream request body.
func (e *exchange) endUpstreamBody() {
	e.reqBodyOpen = false
	if e.pipeW != nil {
		_ = e.pipeW.Close()
	}
}

// upstreamDone starts the response path with the upstream's answer, or with
// Envoy's local reply when the upstream failed.
func (e *exchange) upstreamDone(up upstreamResult) bool {
	e.upstreamPending = false
	if up.err != nil {
		if e.ctx.Err() != nil {
			e.reset(DetailsDownstreamReset, e.ctx.Err())
			return false
		}
		e.res.Err = up.err
		if e.pipeW != nil {
			_ = e.pipeW.CloseWithError(up.err)
			e.pipeW = nil
		}
		var opErr *net.OpError
		if errors.As(up.err, &opErr) && opErr.Op == "dial" {
			return e.routerLocalReply(http.StatusServiceUnavailable, connectFailureBody, DetailsConnectFailure)
		}
		return e.routerLocalReply(http.StatusServiceUnavailable, connTerminationBody, DetailsConnTermination)
	}
	e.res.Served = e.served
	e.res.Details = DetailsViaUpstream
	return e.startResponse(up.resp.StatusCode, up.resp.Header, up.resp.Body, up.resp.ContentLength, up.resp, true)
}
