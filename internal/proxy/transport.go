package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// errFirstByteTimeout marks an upstream that sent no response headers in time.
var errFirstByteTimeout = errors.New("upstream first-byte timeout")

// retryTransport sends the request to the picked endpoint and, while nothing
// has reached the client, re-picks and retries on connection failures and on
// 502/503/504 answers.
type retryTransport struct {
	h    *Handler
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchangeFrom(req.Context())
	if x == nil {
		return nil, errors.New("proxy: request without exchange state")
	}
	out := req
	for {
		x.attempts++
		resp, err := t.attempt(out, x)
		if err == nil && !retryableStatus(resp.StatusCode) {
			return resp, nil
		}
		if err != nil && !t.retryableErr(req.Context(), err, x) {
			return nil, err
		}
		if x.attempts > t.h.retries {
			return resp, err
		}
		prev := x.dec.Endpoint
		x.release()
		if rerr := t.h.router.Retry(x.dec, x.prompt); rerr != nil {
			// Nobody left to try: hand back what we have.
			x.dec.Endpoint = prev
			x.acquire(prev)
			return resp, err
		}
		if resp != nil {
			discard(resp.Body)
		}
		t.h.log.Debug("retrying on another endpoint",
			"request_id", x.id, "failed_endpoint", prev.Name(), "next_endpoint", x.dec.Endpoint.Name(),
			"status", statusOf(resp), "err", err)
		x.acquire(x.dec.Endpoint)
		out = req.Clone(req.Context())
		out.URL.Host = x.dec.Endpoint.Address()
		out.Host = x.dec.Endpoint.Address()
		out.Body, _ = req.GetBody()
	}
}

// attempt sends one request, failing it when no response headers arrive
// within the first-byte timeout.
func (t *retryTransport) attempt(req *http.Request, x *exchange) (*http.Response, error) {
	timer := time.AfterFunc(t.h.firstB, func() {
		x.timedOut.Store(true)
		x.cancel()
	})
	resp, err := t.base.RoundTrip(req)
	if !timer.Stop() && x.timedOut.Load() {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("endpoint %s: %w", x.dec.Endpoint.Name(), errFirstByteTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", x.dec.Endpoint.Name(), err)
	}
	return resp, nil
}

// retryableErr reports whether a transport error may be retried elsewhere:
// anything but the client going away or a timeout.
func (t *retryTransport) retryableErr(ctx context.Context, err error, x *exchange) bool {
	if ctx.Err() != nil || x.timedOut.Load() {
		return false
	}
	return !errors.Is(err, context.Canceled)
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// discard abandons a failed attempt's body without reading it: a replica
// that answered 502/503/504 may never finish the body, and the retry must not
// wait for it. The connection is closed rather than reused.
func discard(body io.ReadCloser) {
	body.Close()
}
