package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FailuresOptions configure [NewFailures].
type FailuresOptions struct {
	// Listener is the listener label of the counted failures, e.g.
	// "metrics". It must come from a fixed set.
	Listener string
	// Limiter throttles failed attempts per client address; nil does not
	// throttle. Share one limiter between every door to the same
	// credentials (the bearer middleware and a login form), so that they
	// share one budget per address.
	Limiter *FailureLimiter
	// Metrics counts the failures; nil does not count.
	Metrics *FailureMetrics
	// Logger receives the failures, at most one record per reason per
	// second (with the number suppressed since the last one); never a
	// token. nil discards them.
	Logger *slog.Logger
	// Now is the clock of the log's rate; nil means time.Now.
	Now func() time.Time
}

// Failures handles the failed authentication attempts of one listener: it
// throttles them per client address, counts them in
// infergate_auth_failures_total and logs them at a bounded rate. Both
// [Middleware] and a login handler run their attempts through it. A nil
// *Failures is not valid; build one with [NewFailures]. Safe for
// concurrent use.
type Failures struct {
	limiter  *FailureLimiter
	counters map[string]prometheus.Counter // by reason; nil: not counted
	log      *rateLog
	listener string
}

// NewFailures returns a Failures configured by o.
func NewFailures(o FailuresOptions) *Failures {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	f := &Failures{limiter: o.Limiter, log: newRateLog(logger, now), listener: o.Listener}
	if o.Metrics != nil {
		f.counters = o.Metrics.listener(o.Listener)
	}
	return f
}

// ThrottledError is the error [Failures.Authenticate] and
// [Failures.Malformed] return for an address that made too many failed
// attempts; it matches [ErrThrottled] with errors.Is. Answer 429 with a
// Retry-After of [ThrottledError.RetryAfterSeconds].
type ThrottledError struct {
	// RetryAfter is how long until the address may try again (>= 1 s).
	RetryAfter time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed authentication attempts; retry in %s", e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds returns the value of the Retry-After header: whole
// seconds, at least 1.
func (e *ThrottledError) RetryAfterSeconds() string {
	return strconv.FormatInt(int64(max(time.Second, e.RetryAfter)/time.Second), 10)
}

// Authenticate runs one authentication attempt of r's client with token.
// When the client's address has failed too often, only a token authn can
// accept without calling out ([CachedAuthenticator]) is accepted and any
// other attempt returns a [*ThrottledError] without calling authn. An
// attempt that fails because the token is invalid uses up one of the
// address's failures; nothing else does. A user without a name is returned
// as is: the caller must reject it. Failures other than a nameless user are
// counted and logged here (the error with token redacted); the returned
// error is authn's.
func (f *Failures) Authenticate(r *http.Request, authn Authenticator, token string) (User, error) {
	addr := clientAddress(r)
	retry, ok := f.limiter.Reserve(addr)
	if !ok {
		if c, isCached := authn.(CachedAuthenticator); isCached {
			if u, known := c.AuthenticateCached(token); known && u.Name != "" {
				return u, nil
			}
		}
		err := &ThrottledError{RetryAfter: retry}
		f.Record(r, ReasonThrottled, slog.LevelWarn, "throttled authentication attempt", slog.Duration("retry_after", retry))
		return User{}, err
	}
	u, err := authn.Authenticate(r.Context(), token)
	if err == nil {
		f.limiter.Release(addr)
		return u, nil
	}
	errAttr := slog.String("err", redact(err.Error(), token))
	switch {
	case errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrUnavailable):
		// The reservation stays taken: this is a failed attempt.
		f.Record(r, ReasonInvalid, slog.LevelInfo, "rejected invalid bearer token", errAttr)
	case errors.Is(err, ErrUnavailable):
		f.limiter.Release(addr)
		f.Record(r, ReasonUnavailable, slog.LevelWarn, "cannot verify bearer token", errAttr)
	case r.Context().Err() != nil:
		f.limiter.Release(addr)
		f.Record(r, ReasonUnavailable, slog.LevelDebug, "client went away during authentication", errAttr)
	default:
		f.limiter.Release(addr)
		f.Record(r, ReasonUnavailable, slog.LevelError, "authentication failed", errAttr)
	}
	return User{}, err
}

// Malformed records an attempt with a malformed credential (such as an
// Authorization header that is not one bearer token): it uses up one of the
// address's failures, or, when none is left, returns a [*ThrottledError].
func (f *Failures) Malformed(r *http.Request) error {
	if retry, ok := f.limiter.Reserve(clientAddress(r)); !ok {
		f.Record(r, ReasonThrottled, slog.LevelWarn, "throttled authentication attempt", slog.Duration("retry_after", retry))
		return &ThrottledError{RetryAfter: retry}
	}
	f.Record(r, ReasonMalformed, slog.LevelInfo, "rejected request without a valid bearer token")
	return nil
}

// Record counts a failure of reason (one of the Reason constants) for r and
// logs msg at level with attrs plus the listener, reason, method, path and
// remote address, at most once per second per reason. It does not touch the
// address's budget. attrs must not hold secrets.
func (f *Failures) Record(r *http.Request, reason string, level slog.Level, msg string, attrs ...slog.Attr) {
	if c := f.counters[reason]; c != nil {
		c.Inc()
	}
	attrs = append(attrs,
		slog.String("reason", reason),
		slog.String("method", r.Method),
		PathAttr(r),
		slog.String("remote", r.RemoteAddr))
	if f.listener != "" {
		attrs = append(attrs, slog.String("listener", f.listener))
	}
	f.log.log(r.Context(), reason, level, msg, attrs...)
}
