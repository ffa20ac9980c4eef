// Package auth guards the admin endpoints (/metrics, /debug/pprof/,
// /dashboard) with bearer tokens.
//
// An [Authenticator] turns a token into a [User]; an [Authorizer] decides
// whether that user may use a verb on a path. [Middleware] combines the two
// into func(http.Handler) http.Handler and maps their outcomes to status
// codes: 401 for a missing or invalid token, 403 for a denied one, 429 for
// a client that failed too often ([ErrThrottled]), 503 when the reviewer
// cannot be reached ([ErrUnavailable]), 500 only for bugs.
// Compared with controller-runtime's metrics filter, an invalid token is 401
// (not 500) and an unreachable API server is 503 (not 500).
//
// Standalone mode uses [StaticTokens] (from [LoadTokenFile]) with
// [AllowAll]. In a cluster, Kubernetes TokenReview and SubjectAccessReview
// implementations of the same two interfaces slot in, with the
// SubjectAccessReview checking the non-resource URL (path) and verb exactly as
// Google's "metrics reader" ClusterRole expects (get on /metrics).
//
// # Failed attempts
//
// [Failures] handles the failed attempts of one listener, for the middleware
// and for a login form alike. A [FailureLimiter] gives each client address
// (the connection's peer; IPv6 per /64) a budget of failures, a token bucket
// (default: 10 in a row, then 1 per second). Only failures use it up: an
// attempt reserves one failure before the token is checked and gives it back
// unless the token was invalid or the header malformed, so concurrent
// guesses cannot overrun it and valid tokens never drain it. Past the
// budget, attempts get 429 with Retry-After and the authenticator is not
// called (no TokenReview is spent), except for a token a
// [CachedAuthenticator] vouches for without calling out: static tokens
// always, Kubernetes tokens still in the positive cache. The limiter tracks
// at most 10,000 addresses, forgetting the least recently seen.
//
// Failures are counted in infergate_auth_failures_total{listener, reason}
// (see the Reason constants) and logged at most once per second per reason,
// with the number of records suppressed since the previous one.
//
// Tokens are never logged: the middleware logs method, path, remote address
// and user name only, and scrubs the token from any error text it logs.
// Token files must hold tokens of at least [MinTokenLength] (16) bytes.
package auth
