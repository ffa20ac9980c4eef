package auth

import (
	"context"
	"errors"
)

// Sentinel errors that [Authenticator] and [Authorizer] implementations
// return, possibly wrapped; [Middleware] matches them with errors.Is.
var (
	// ErrUnauthenticated means the token is missing, malformed, unknown or
	// expired. The middleware answers 401.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrUnavailable means the reviewer (for example the Kubernetes API
	// server) could not be reached or did not answer in time, so the answer
	// is unknown. The middleware answers 503; the client should retry.
	ErrUnavailable = errors.New("authentication service unavailable")
)

// User is an authenticated identity.
type User struct {
	// Name identifies the user, e.g. "system:serviceaccount:ns:sa" or the
	// name given to a static token. Never empty for an authenticated user.
	Name string
	// Groups lists the user's groups, for authorizers that use them.
	Groups []string
	// UID is the identity provider's unique id of the user, when it has
	// one (Kubernetes TokenReview reports one; static tokens do not).
	UID string
	// Extra holds further attributes the identity provider reported (for
	// Kubernetes, e.g. the bound pod or credential id), for authorizers
	// that pass them on, such as a SubjectAccessReview. Treat it as
	// read-only: it may be shared between copies of the User.
	Extra map[string][]string
}

// Authenticator maps a bearer token to a user.
//
// Authenticate returns an error wrapping [ErrUnauthenticated] when the token
// is not valid and one wrapping [ErrUnavailable] when validity cannot be
// decided right now; any other error is treated as a bug. Errors must not
// contain the token. Implementations must be safe for concurrent use.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (User, error)
}

// Authorizer decides whether a user may perform verb (a lower-case HTTP
// method, e.g. "get") on path (the request's URL path, e.g. "/metrics").
//
// Authorize returns false with a nil error to deny, and an error wrapping
// [ErrUnavailable] when it cannot decide right now; any other error is
// treated as a bug. Implementations must be safe for concurrent use.
type Authorizer interface {
	Authorize(ctx context.Context, u User, verb, path string) (bool, error)
}

// AllowAll is an [Authorizer] that allows every authenticated user to do
// anything. It suits standalone mode, where holding a configured token is the
// whole policy.
type AllowAll struct{}

var _ Authorizer = AllowAll{}

// Authorize implements [Authorizer]; it always allows.
func (AllowAll) Authorize(context.Context, User, string, string) (bool, error) { return true, nil }

// userKey is the context key of the authenticated [User].
type userKey struct{}

// WithUser returns a copy of ctx carrying u, as [Middleware] does for the
// requests it lets through.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user [Middleware] authenticated for this request, and
// false when there is none.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// ErrThrottled means the client's address made too many failed attempts
// and must wait; see [ThrottledError]. The middleware answers 429 with
// Retry-After.
var ErrThrottled = errors.New("too many failed authentication attempts")

// CachedAuthenticator is an [Authenticator] that can also vouch for a token
// without calling out (no network call, no review spent). The middleware
// uses it for clients that are throttled, so that a known-valid token keeps
// working from an address that guesses wrong ones.
type CachedAuthenticator interface {
	Authenticator
	// AuthenticateCached returns the token's user and true when the token
	// is known to be valid right now; false means unknown or invalid.
	AuthenticateCached(token string) (User, bool)
}
