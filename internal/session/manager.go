package session

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/infergate/infergate/internal/auth"
)

// DefaultCookieName is the session cookie's name unless [Options] says
// otherwise.
const DefaultCookieName = "infergate_session"

// maxLoginBody bounds the login form's body.
const maxLoginBody = 64 << 10

// LoginPage writes a complete response: the status code it is given and an
// HTML page with a login form that POSTs the field "token" to the login
// handler. problem, when not empty, is a short, user-facing sentence saying
// why the last attempt failed; it must be HTML-escaped.
type LoginPage func(w http.ResponseWriter, r *http.Request, status int, problem string)

// Options configure a [Manager].
type Options struct {
	// Authenticator and Authorizer check tokens, as for /metrics. Required.
	Authenticator auth.Authenticator
	Authorizer    auth.Authorizer
	// Store holds the sessions; nil means NewStore(0, 0, nil).
	Store *Store
	// Path is the URL path the sessions are for: the cookie's Path, where
	// login and logout redirect to, and the path authorized (verb "get")
	// at login. Default "/".
	Path string
	// CookieName is the session cookie's name; default [DefaultCookieName].
	CookieName string
	// LoginPage renders the login form. Required.
	LoginPage LoginPage
	// Logger receives auth decisions (never tokens); nil discards.
	Logger *slog.Logger
	// Failures throttles, counts and logs failed logins and failed bearer
	// tokens; pass the one the listener's other guarded routes use, so
	// that guessing through the login form and through the Authorization
	// header share one budget per client address. nil means one that logs
	// to Logger at a bounded rate and neither throttles nor counts.
	Failures *auth.Failures
}

// Manager logs browsers in and out and guards handlers with either a
// session cookie or a bearer token. It is safe for concurrent use.
type Manager struct {
	authn  auth.Authenticator
	authz  auth.Authorizer
	store  *Store
	path   string
	cookie string
	page   LoginPage
	log    *slog.Logger
	fails  *auth.Failures
	csrf   *http.CrossOriginProtection
}

// New returns a Manager. It panics when a required option is missing,
// which is a wiring bug.
func New(o Options) *Manager {
	if o.Authenticator == nil || o.Authorizer == nil || o.LoginPage == nil {
		panic("session.New: Authenticator, Authorizer and LoginPage are required")
	}
	m := &Manager{
		authn:  o.Authenticator,
		authz:  o.Authorizer,
		store:  o.Store,
		path:   o.Path,
		cookie: o.CookieName,
		page:   o.LoginPage,
		log:    o.Logger,
		fails:  o.Failures,
		csrf:   http.NewCrossOriginProtection(),
	}
	if m.store == nil {
		m.store = NewStore(0, 0, nil)
	}
	if m.path == "" {
		m.path = "/"
	}
	if m.cookie == "" {
		m.cookie = DefaultCookieName
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.fails == nil {
		m.fails = auth.NewFailures(auth.FailuresOptions{Logger: m.log})
	}
	return m
}

// Guard returns next behind the session check: a request with a live
// session cookie is authorized for its method and path as the session's
// user; any other request goes through [auth.Middleware], so a bearer
// token works too and a request with neither gets 401 with the login page.
// A stale session cookie is cleared. next finds the user with
// [auth.UserFrom].
func (m *Manager) Guard(next http.Handler) http.Handler {
	bearer := auth.Middleware(m.authn, m.authz, auth.MiddlewareOptions{
		Logger:   m.log,
		Failures: m.fails,
		Unauthorized: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.page(w, r, http.StatusUnauthorized, "")
		}),
	})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(m.cookie); err == nil {
			if u, ok := m.store.Lookup(c.Value); ok {
				m.serveSession(w, r, u, next)
				return
			}
			http.SetCookie(w, m.expiredCookie(r))
		}
		bearer.ServeHTTP(w, r)
	})
}

// serveSession authorizes a session user's request and serves it.
func (m *Manager) serveSession(w http.ResponseWriter, r *http.Request, u auth.User, next http.Handler) {
	ctx := r.Context()
	allowed, err := m.authz.Authorize(ctx, u, strings.ToLower(r.Method), r.URL.Path)
	switch {
	case err != nil && errors.Is(err, auth.ErrUnavailable):
		m.log.WarnContext(ctx, "cannot authorize session", slog.String("user", u.Name), slog.Any("err", err))
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	case err != nil:
		m.log.ErrorContext(ctx, "authorizing session failed", slog.String("user", u.Name), slog.Any("err", err))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	case !allowed:
		m.log.InfoContext(ctx, "forbidden", slog.String("user", u.Name), auth.PathAttr(r))
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
	default:
		next.ServeHTTP(w, r.WithContext(auth.WithUser(ctx, u)))
	}
}

// ServeLogin handles the login form's POST: the field "token" of a
// url-encoded body (never the URL's query). A valid, authorized token
// starts a session, sets its cookie and redirects (303) to the guarded
// path; otherwise the login page is shown again with the problem and 400,
// 401, 403, 405, 429 (with Retry-After: the client's address failed too
// often, see [auth.Failures]), 500 or 503. A failed login uses up one of
// the address's failures, as an invalid bearer token does.
func (m *Manager) ServeLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		m.page(w, r, http.StatusMethodNotAllowed, "Log in with the form.")
		return
	}
	if err := m.csrf.Check(r); err != nil {
		m.log.InfoContext(r.Context(), "refused cross-origin login", slog.String("remote", r.RemoteAddr))
		m.page(w, r, http.StatusForbidden, "Cross-origin login refused: open the dashboard from its own address.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		m.page(w, r, http.StatusBadRequest, "The form could not be read; try again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if token == "" {
		m.fails.Record(r, auth.ReasonMissing, slog.LevelDebug, "login without a token")
		m.page(w, r, http.StatusUnauthorized, "Enter the bearer token.")
		return
	}
	ctx := r.Context()
	u, err := m.fails.Authenticate(r, m.authn, token)
	switch {
	case err == nil && u.Name == "":
		m.log.ErrorContext(ctx, "authenticator returned a user without a name", slog.String("remote", r.RemoteAddr))
		m.page(w, r, http.StatusInternalServerError, loginServerError)
		return
	case err != nil:
		m.loginFailed(w, r, err)
		return
	}
	allowed, err := m.authz.Authorize(ctx, u, "get", m.path)
	switch {
	case err != nil:
		level, msg, status, problem := slog.LevelError, "authorizing login failed", http.StatusInternalServerError, loginServerError
		if errors.Is(err, auth.ErrUnavailable) || ctx.Err() != nil {
			level, msg, status, problem = slog.LevelWarn, "cannot authorize login", http.StatusServiceUnavailable, loginUnavailable
		}
		m.fails.Record(r, auth.ReasonUnavailable, level, msg, slog.String("user", u.Name),
			slog.String("err", strings.ReplaceAll(err.Error(), token, "[REDACTED]")))
		m.page(w, r, status, problem)
		return
	case !allowed:
		m.fails.Record(r, auth.ReasonForbidden, slog.LevelInfo, "login forbidden", slog.String("user", u.Name))
		m.page(w, r, http.StatusForbidden, "This token is valid but not allowed to view this page.")
		return
	}
	id := m.store.Create(u)
	http.SetCookie(w, &http.Cookie{
		Name:     m.cookie,
		Value:    id,
		Path:     m.path,
		MaxAge:   int(m.store.TTL().Seconds()),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	m.log.InfoContext(ctx, "logged in", slog.String("user", u.Name), slog.String("remote", r.RemoteAddr))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, m.path, http.StatusSeeOther)
}

// Problems the login page shows for failures on the gateway's side.
const (
	loginServerError = "Login failed because of a server error; see the gateway's log."
	loginUnavailable = "The token cannot be checked right now; try again shortly."
)

// loginFailed answers a login whose authentication failed with err; the
// failure is already counted and logged.
func (m *Manager) loginFailed(w http.ResponseWriter, r *http.Request, err error) {
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", throttled.RetryAfterSeconds())
		m.page(w, r, http.StatusTooManyRequests, "Too many failed attempts from your address; try again in "+throttled.RetryAfterSeconds()+" s.")
	case errors.Is(err, auth.ErrUnavailable), r.Context().Err() != nil:
		m.page(w, r, http.StatusServiceUnavailable, loginUnavailable)
	case errors.Is(err, auth.ErrUnauthenticated):
		m.page(w, r, http.StatusUnauthorized, "That token is not valid.")
	default:
		m.page(w, r, http.StatusInternalServerError, loginServerError)
	}
}

// ServeLogout handles POST: it ends the browser's session, clears the
// cookie and redirects (303) to the guarded path.
func (m *Manager) ServeLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if err := m.csrf.Check(r); err != nil {
		http.Error(w, "cross-origin logout refused", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(m.cookie); err == nil {
		m.store.Delete(c.Value)
	}
	http.SetCookie(w, m.expiredCookie(r))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, m.path, http.StatusSeeOther)
}

// expiredCookie returns a cookie that makes the browser drop the session
// cookie.
func (m *Manager) expiredCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{
		Name:     m.cookie,
		Value:    "",
		Path:     m.path,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
}
