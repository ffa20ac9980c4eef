package admission

import (
	"errors"
	"time"
)

// Flow-control rejections. Front ends map them (see the README's admission
// table): [ErrQueueFull] and [ErrTTLExpired] to 429, [ErrNoEndpoints] and
// [ErrShuttingDown] to 503. Each comes wrapped in a [*Rejection] carrying
// the Retry-After to send; a request whose context ends while queued gets
// its context's error instead (the client is gone; nothing is sent).
var (
	// ErrQueueFull: the request's priority band holds its maximum of
	// queued requests (or the shared body-byte budget is spent).
	ErrQueueFull = errors.New("flow control: queue full")
	// ErrTTLExpired: the request waited its TTL without being dispatched.
	ErrTTLExpired = errors.New("flow control: queued past its TTL")
	// ErrNoEndpoints: the pool had no endpoint for the whole no-endpoint
	// hold.
	ErrNoEndpoints = errors.New("flow control: no ready endpoint")
	// ErrShuttingDown: the gateway is shutting down.
	ErrShuttingDown = errors.New("flow control: shutting down")
)

// Rejection is an admission refusal with the wait the client should be
// told to observe before retrying.
type Rejection struct {
	// Err is one of the admission errors ([ErrShed], [ErrQueueFull], ...).
	Err error
	// RetryAfter is the suggested wait, at least one second.
	RetryAfter time.Duration
}

// Error implements error.
func (r *Rejection) Error() string { return r.Err.Error() }

// Unwrap returns Err.
func (r *Rejection) Unwrap() error { return r.Err }

// reject wraps err with a Retry-After of at least a second.
func reject(err error, after time.Duration) *Rejection {
	return &Rejection{Err: err, RetryAfter: max(after, time.Second)}
}

// RetryAfter returns the wait an admission error suggests, and false when
// err carries none.
func RetryAfter(err error) (time.Duration, bool) {
	if r, ok := errors.AsType[*Rejection](err); ok {
		return r.RetryAfter, true
	}
	return 0, false
}
