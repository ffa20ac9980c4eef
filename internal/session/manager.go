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
		Logger: m.log,
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
		m.log.InfoContext(ctx, "forbidden", slog.String("user", u.Name), slog.String("path", r.URL.Path))
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
	default:
		next.ServeHTTP(w, r.WithContext(auth.WithUser(ctx, u)))
	}
}

// ServeLogin handles the login form's POST: the field "token" of a
// url-encoded body (never the URL's query). A valid, authorized token
// starts a session, sets its cookie and redirects (303) to the guarded
// path; otherwise the login page is shown again with the problem and 400,
// 401, 403, 405 or 503.
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
		m.page(w, r, http.StatusUnauthorized, "Enter the bearer token.")
		return
	}
	ctx := r.Context()
	u, err := m.authn.Authenticate(ctx, token)
	if err == nil && u.Name == "" {
		err = errors.New("authenticator returned a user without a name")
	}
	if err != nil {
		m.loginFailed(w, r, "authentication", err, token)
		return
	}
	allowed, err := m.authz.Authorize(ctx, u, "get", m.path)
	if err != nil {
		m.loginFailed(w, r, "authorization", err, token)
		return
	}
	if !allowed {
		m.log.InfoContext(ctx, "login forbidden", slog.String("user", u.Name))
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

// loginFailed answers a failed authentication or authorization at login.
func (m *Manager) loginFailed(w http.ResponseWriter, r *http.Request, stage string, err error, token string) {
	ctx := r.Context()
	attrs := []slog.Attr{slog.String("stage", stage), slog.String("err", strings.ReplaceAll(err.Error(), token, "[REDACTED]"))}
	switch {
	case errors.Is(err, auth.ErrUnavailable), ctx.Err() != nil:
		m.log.LogAttrs(ctx, slog.LevelWarn, "cannot verify login", attrs...)
		m.page(w, r, http.StatusServiceUnavailable, "The token cannot be checked right now; try again shortly.")
	case stage == "authentication" && errors.Is(err, auth.ErrUnauthenticated):
		m.log.LogAttrs(ctx, slog.LevelInfo, "rejected login", attrs...)
		m.page(w, r, http.StatusUnauthorized, "That token is not valid.")
	default:
		m.log.LogAttrs(ctx, slog.LevelError, "login failed", attrs...)
		m.page(w, r, http.StatusInternalServerError, "Login failed because of a server error; see the gateway's log.")
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
