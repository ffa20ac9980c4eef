package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// MiddlewareOptions configures [Middleware].
type MiddlewareOptions struct {
	// Logger receives records the middleware writes itself (a bug in an
	// authenticator). nil discards them.
	Logger *slog.Logger
	// Failures throttles, counts and logs the failed attempts (never the
	// token); share it with the listener's login form. nil means one that
	// logs to Logger at a bounded rate and neither throttles nor counts.
	Failures *Failures
	// Unauthorized, when set, writes the body of 401 answers (for example a
	// login page). The status stays 401 whatever it writes. nil answers with
	// a short text body.
	Unauthorized http.Handler
}

// Middleware returns HTTP middleware that lets a request through only when it
// carries a bearer token that authn accepts and authz allows for the
// request's lower-cased method and URL path. The user is then available to
// the wrapped handler through [UserFrom].
//
// The header must be exactly one "Authorization: Bearer <token>" (scheme
// case-insensitive, one token68 word). Answers:
//
//   - 401 with WWW-Authenticate: Bearer: no header, a malformed one, or a
//     token authn rejects with [ErrUnauthenticated] (then with
//     error="invalid_token").
//   - 403: authz denies.
//   - 429 with Retry-After: the client's address made too many failed
//     attempts (see [Failures.Authenticate]); a token authn can vouch for
//     without calling out ([CachedAuthenticator]) still gets through.
//   - 503: authn or authz returns [ErrUnavailable] (or the client went away
//     while they ran).
//   - 500: any other error, or an authenticator returning a user without a
//     name. Nothing is ever let through on doubt.
//
// Malformed headers and invalid tokens count as failures of the client's
// address; requests without a header do not (a browser opening a login page
// sends none), nor do valid tokens, denied ones or unanswered reviews.
//
// It panics if authn or authz is nil.
func Middleware(authn Authenticator, authz Authorizer, opts MiddlewareOptions) func(http.Handler) http.Handler {
	if authn == nil || authz == nil {
		panic("auth.Middleware: nil Authenticator or Authorizer")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	failures := opts.Failures
	if failures == nil {
		failures = NewFailures(FailuresOptions{Logger: logger})
	}
	return func(next http.Handler) http.Handler {
		return &guard{authn: authn, authz: authz, logger: logger, failures: failures, unauthorized: opts.Unauthorized, next: next}
	}
}

// guard is the handler [Middleware] wraps around next.
type guard struct {
	authn        Authenticator
	authz        Authorizer
	logger       *slog.Logger
	failures     *Failures
	unauthorized http.Handler
	next         http.Handler
}

// ServeHTTP implements [http.Handler].
func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		g.failures.Record(r, ReasonMissing, slog.LevelDebug, "rejected request without a bearer token")
		g.deny401(w, r, "Bearer")
		return
	}
	token, ok := parseAuthorization(values)
	if !ok {
		if err := g.failures.Malformed(r); err != nil {
			writeThrottled(w, err)
			return
		}
		g.deny401(w, r, "Bearer")
		return
	}

	u, err := g.failures.Authenticate(r, g.authn, token)
	switch {
	case err == nil && u.Name == "":
		g.logger.LogAttrs(ctx, slog.LevelError, "authenticator returned a user without a name", requestAttrs(r)...)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	case errors.Is(err, ErrThrottled):
		writeThrottled(w, err)
		return
	case err != nil && errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrUnavailable):
		g.deny401(w, r, `Bearer error="invalid_token"`)
		return
	case err != nil:
		writeUnavailable(w, r, err)
		return
	}

	verb := strings.ToLower(r.Method)
	allowed, err := g.authz.Authorize(ctx, u, verb, r.URL.Path)
	switch {
	case err != nil:
		level, msg := slog.LevelError, "authorization failed"
		if errors.Is(err, ErrUnavailable) {
			level, msg = slog.LevelWarn, "cannot authorize request"
		} else if ctx.Err() != nil {
			level, msg = slog.LevelDebug, "client went away during authorization"
		}
		g.failures.Record(r, ReasonUnavailable, level, msg, slog.String("user", u.Name), slog.String("err", redact(err.Error(), token)))
		writeUnavailable(w, r, err)
		return
	case !allowed:
		g.failures.Record(r, ReasonForbidden, slog.LevelInfo, "forbidden", slog.String("user", u.Name))
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	g.next.ServeHTTP(w, r.WithContext(WithUser(ctx, u)))
}

// writeThrottled answers 429 for err, a [*ThrottledError], with its
// Retry-After.
func writeThrottled(w http.ResponseWriter, err error) {
	retry := "1"
	var te *ThrottledError
	if errors.As(err, &te) {
		retry = te.RetryAfterSeconds()
	}
	w.Header().Set("Retry-After", retry)
	http.Error(w, "too many failed authentication attempts; retry later", http.StatusTooManyRequests)
}

// writeUnavailable answers a request whose credential could not be checked
// because of err: 503 when the reviewer is unavailable or the client went
// away, else 500.
func writeUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnavailable) || r.Context().Err() != nil {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// deny401 answers 401 with the given WWW-Authenticate challenge and either
// the configured body or a short text one.
func (g *guard) deny401(w http.ResponseWriter, r *http.Request, challenge string) {
	w.Header().Set("WWW-Authenticate", challenge)
	if g.unauthorized == nil {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	fw := &fixedStatusWriter{ResponseWriter: w, code: http.StatusUnauthorized}
	g.unauthorized.ServeHTTP(fw, r)
	fw.WriteHeader(http.StatusUnauthorized) // in case the handler wrote nothing
}

// requestAttrs returns the attributes that identify r in a log record. It
// never includes headers.
func requestAttrs(r *http.Request) []slog.Attr {
	return []slog.Attr{
		slog.String("method", r.Method),
		PathAttr(r),
		slog.String("remote", r.RemoteAddr),
	}
}

// redact removes every occurrence of token from s, in case an
// implementation echoes the token in an error.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[REDACTED]")
}

// fixedStatusWriter sends code whatever status the wrapped handler asks for.
type fixedStatusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

// WriteHeader sends the fixed status once, ignoring the requested one.
func (w *fixedStatusWriter) WriteHeader(int) {
	if !w.wrote {
		w.wrote = true
		w.ResponseWriter.WriteHeader(w.code)
	}
}

// Write sends the fixed status first if needed.
func (w *fixedStatusWriter) Write(b []byte) (int, error) {
	w.WriteHeader(w.code)
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *fixedStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxLoggedPathBytes bounds the request path in a log line: the path is the
// client's, up to the listener's header limit.
const maxLoggedPathBytes = 256

// PathAttr returns the request's URL path as a log attribute, clipped to
// 256 bytes.
func PathAttr(r *http.Request) slog.Attr {
	p := r.URL.Path
	if len(p) > maxLoggedPathBytes {
		p = p[:maxLoggedPathBytes] + "…"
	}
	return slog.String("path", p)
}
