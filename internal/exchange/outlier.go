package exchange

import (
	"context"
	"errors"

	"github.com/infergate/infergate/internal/pool"
)

// ErrAbandoned is the error of an attempt the gateway gave up on itself
// (its endpoint turned stale or was ejected before answering, or a hedge
// answered first). It says nothing about the endpoint and is not counted
// by outlier detection.
var ErrAbandoned = errors.New("attempt abandoned by the gateway")

// AttemptDone reports how the attempt at ep ended to the pool's passive
// outlier detection: status is the response status when headers arrived
// (err nil), or err the reason none did. A 5xx answer, a first-byte timeout
// ([ErrFirstByteTimeout]) and any other transport error (a connect
// failure) count against ep; the client going away (context.Canceled) and
// [ErrAbandoned] are not counted.
func (x *Exchange) AttemptDone(ep *pool.Endpoint, status int, err error) {
	if x.dec == nil || x.dec.Pool == nil || ep == nil {
		return
	}
	var r pool.Result
	switch {
	case err == nil && status >= 500:
		r = pool.ResultServerError
	case err == nil:
		r = pool.ResultSuccess
	case errors.Is(err, ErrFirstByteTimeout):
		r = pool.ResultFirstByteTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, ErrAbandoned):
		return
	default:
		r = pool.ResultConnectFailure
	}
	x.dec.Pool.Report(ep, r)
}
