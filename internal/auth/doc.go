// Package auth guards the admin endpoints (/metrics, /debug/pprof/,
// /dashboard) with bearer tokens.
//
// An [Authenticator] turns a token into a [User]; an [Authorizer] decides
// whether that user may use a verb on a path. [Middleware] combines the two
// into func(http.Handler) http.Handler and maps their outcomes to status
// codes: 401 for a missing or invalid token, 403 for a denied one, 503 when
// the reviewer cannot be reached ([ErrUnavailable]), 500 only for bugs.
// Compared with controller-runtime's metrics filter, an invalid token is 401
// (not 500) and an unreachable API server is 503 (not 500).
//
// Standalone mode uses [StaticTokens] (from [LoadTokenFile]) with
// [AllowAll]. In a cluster, Kubernetes TokenReview and SubjectAccessReview
// implementations of the same two interfaces slot in, with the
// SubjectAccessReview checking the non-resource URL (path) and verb exactly as
// Google's "metrics reader" ClusterRole expects (get on /metrics).
//
// Tokens are never logged: the middleware logs method, path, remote address
// and user name only, and scrubs the token from any error text it logs.
package auth
