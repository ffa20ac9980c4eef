package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// The first-byte hedge (off unless Options.HedgeAfter is set): when an
// attempt has no response headers after HedgeAfter and the retry budget has
// room, a second copy goes to another endpoint; the first usable answer
// (headers with a status other than 502/503/504) is kept and the other
// attempt cancelled. If the first answer is not usable the other one is
// awaited, and roundTrip's retry logic goes on from whichever came last.

// legResult is one hedged attempt's outcome.
type legResult struct {
	ep     *pool.Endpoint
	req    *http.Request
	resp   *http.Response
	err    error
	cancel context.CancelFunc
}

// usable reports whether r is an answer to pass on.
func (r legResult) usable() bool { return r.err == nil && !retryableStatus(r.resp.StatusCode) }

// attemptOrHedge runs the attempt at ep, hedged when configured and the
// budget allows. When the hedge's answer is used it reports it through
// c.won and c.wonReq and has already told the exchange about the other
// attempt; otherwise roundTrip reports the returned result for ep.
func (c *call) attemptOrHedge(req *http.Request, ep *pool.Endpoint, store *pool.Store) (*http.Response, error) {
	h, x := c.h, c.x
	if h.hedge <= 0 || x.Attempts() > h.retries {
		resp, cancel, err := c.attempt(c.ctx, req, ep, store)
		if cancel != nil {
			c.cancels = append(c.cancels, cancel)
		}
		return resp, err
	}
	results := make(chan legResult, 2)
	start := func(ep *pool.Endpoint, req *http.Request) context.CancelFunc {
		ctx, cancel := context.WithCancel(c.ctx)
		go func() {
			resp, acancel, err := c.attempt(ctx, req, ep, store)
			if acancel != nil {
				acancel = chain(acancel, cancel)
			} else {
				acancel = cancel
			}
			results <- legResult{ep: ep, req: req, resp: resp, err: err, cancel: acancel}
		}()
		return cancel
	}
	cancelFirst := start(ep, req)
	timer := time.NewTimer(h.hedge)
	defer timer.Stop()
	var first legResult
	select {
	case first = <-results:
		c.cancels = append(c.cancels, first.cancel)
		return first.resp, first.err
	case <-timer.C:
	}
	next, err := x.Hedge(h.router)
	if err != nil {
		first = <-results // nobody to hedge to: wait for the one attempt
		c.cancels = append(c.cancels, first.cancel)
		return first.resp, first.err
	}
	h.log.Debug("hedging on another endpoint", "request_id", x.ID(), "endpoint", ep.Name(), "hedge_endpoint", next.Name())
	hreq := retarget(req, next)
	if c.trace != nil {
		c.trace.startHedge(c.ctx, hreq, next, x.Attempts())
	}
	cancelHedge := start(next, hreq)
	first = <-results
	var lost legResult
	superseded := first.usable()
	if superseded {
		// Cancel the other and wait for it, so its goroutine is done.
		if first.ep == ep {
			cancelHedge()
		} else {
			cancelFirst()
		}
		lost = <-results
	} else {
		lost, first = first, <-results
	}
	c.drop(lost)
	if c.trace != nil {
		c.trace.settleHedge(first.ep != ep, lost.resp, lost.err, superseded)
	}
	c.cancels = append(c.cancels, first.cancel)
	x.Keep(first.ep)
	if first.ep != ep {
		c.won, c.wonReq = first.ep, first.req
	}
	return first.resp, first.err
}

// drop reports the outcome of a hedged attempt whose answer is not used
// and frees it.
func (c *call) drop(r legResult) {
	c.x.AttemptDone(r.ep, statusOf(r.resp), r.err)
	if r.resp != nil {
		r.resp.Body.Close()
	}
	r.cancel()
}

// chain returns a function calling a, then b.
func chain(a, b context.CancelFunc) context.CancelFunc {
	return func() { a(); b() }
}
