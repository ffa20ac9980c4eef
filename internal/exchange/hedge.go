package exchange

import (
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
)

// Hedge picks, with rt, another endpoint for a second copy of the request
// while the attempt at the current one still waits for its first byte. It
// counts as an attempt (the retry budget bounds hedges too) and holds the
// new endpoint's in-flight counters next to the current one's, until
// [Exchange.Keep] settles which answer is used. It returns the router's
// error when no other endpoint is left.
func (x *Exchange) Hedge(rt *router.Router) (*pool.Endpoint, error) {
	prev := x.dec.Endpoint
	if err := rt.Retry(x.dec, x.req.Prompt); err != nil {
		x.dec.Endpoint = prev
		return nil, err
	}
	ep := x.dec.Endpoint
	x.dec.Endpoint = prev
	x.attempts++
	ep.Acquire(x.dec.Tokens)
	x.hedge = ep
	return ep, nil
}

// Keep settles a hedge: ep (the current endpoint or the hedge's) becomes
// the request's endpoint and the other one's counters are released. It
// does nothing when no hedge is out.
func (x *Exchange) Keep(ep *pool.Endpoint) {
	if x.hedge == nil {
		return
	}
	if ep == x.hedge {
		if x.held != nil {
			x.held.Release(x.dec.Tokens)
		}
		x.held, x.dec.Endpoint = ep, ep
	} else {
		x.hedge.Release(x.dec.Tokens)
	}
	x.hedge = nil
}
