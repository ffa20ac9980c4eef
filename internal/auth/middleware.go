package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// MiddlewareOptions configures [Middleware].
type MiddlewareOptions struct {
	// Logger receives one record per rejected request (never the token).
	// nil discards them.
	Logger *slog.Logger
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
//   - 503: authn or authz returns [ErrUnavailable] (or the client went away
//     while they ran).
//   - 500: any other error, or an authenticator returning a user without a
//     name. Nothing is ever let through on doubt.
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
	return func(next http.Handler) http.Handler {
		return &guard{authn: authn, authz: authz, logger: logger, unauthorized: opts.Unauthorized, next: next}
	}
}

// guard is the handler [Middleware] wraps around next.
type guard struct {
	authn        Authenticator
	authz        Authorizer
	logger       *slog.Logger
	unauthorized http.Handler
	next         http.Handler
}

// ServeHTTP implements [http.Handler].
func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token, ok := parseAuthorization(r.Header.Values("Authorization"))
	if !ok {
		g.log(ctx, slog.LevelDebug, "rejected request without a valid bearer token", r)
		g.deny401(w, r, "Bearer")
		return
	}

	u, err := g.authn.Authenticate(ctx, token)
	switch {
	case err == nil && u.Name == "":
		g.log(ctx, slog.LevelError, "authenticator returned a user without a name", r)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	case err != nil:
		g.fail(w, r, "authentication", err, token)
		return
	}

	verb := strings.ToLower(r.Method)
	allowed, err := g.authz.Authorize(ctx, u, verb, r.URL.Path)
	switch {
	case err != nil:
		g.fail(w, r, "authorization", err, token, slog.String("user", u.Name))
		return
	case !allowed:
		g.log(ctx, slog.LevelInfo, "forbidden", r, slog.String("user", u.Name))
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	g.next.ServeHTTP(w, r.WithContext(WithUser(ctx, u)))
}

// fail answers a request whose authentication or authorization (stage)
// returned err, logging err with the token redacted.
func (g *guard) fail(w http.ResponseWriter, r *http.Request, stage string, err error, token string, attrs ...slog.Attr) {
	ctx := r.Context()
	attrs = append(attrs, slog.String("stage", stage), slog.String("err", redact(err.Error(), token)))
	switch {
	case stage == "authentication" && errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrUnavailable):
		g.log(ctx, slog.LevelInfo, "rejected invalid bearer token", r, attrs...)
		g.deny401(w, r, `Bearer error="invalid_token"`)
	case errors.Is(err, ErrUnavailable):
		g.log(ctx, slog.LevelWarn, "cannot verify request", r, attrs...)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	case ctx.Err() != nil:
		g.log(ctx, slog.LevelDebug, "client went away during "+stage, r, attrs...)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	default:
		g.log(ctx, slog.LevelError, stage+" failed", r, attrs...)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
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

// log writes one record about r. It never includes headers.
func (g *guard) log(ctx context.Context, level slog.Level, msg string, r *http.Request, attrs ...slog.Attr) {
	if !g.logger.Enabled(ctx, level) {
		return
	}
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote", r.RemoteAddr))
	g.logger.LogAttrs(ctx, level, msg, attrs...)
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
