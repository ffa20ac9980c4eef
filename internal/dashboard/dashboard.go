package dashboard

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/session"
)

// Path is where the dashboard is served on the metrics listener.
const Path = "/dashboard"

// Routes below [Path].
const (
	// StatePath is the JSON the page polls.
	StatePath = Path + "/api/state"
	// LoginPath takes the login form's POST.
	LoginPath = Path + "/login"
	// LogoutPath takes the logout button's POST.
	LogoutPath = Path + "/logout"
	// AssetsPath serves the embedded script and stylesheet.
	AssetsPath = Path + "/assets/"
)

// contentSecurityPolicy allows only the dashboard's own scripts, styles and
// API: no inline code, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed web
var web embed.FS

// PoolLister lists the gateway's current pools.
type PoolLister interface {
	Stores() []*pool.Store
}

// Options configure [New].
type Options struct {
	// Pools lists the stores the pool overview and endpoint table read, at
	// every refresh (pools may join and leave); [*pool.Set] implements it.
	// nil shows no pools.
	Pools PoolLister
	// Staleness is how old an endpoint's metrics may be for it to count as
	// ready; <= 0 means any scraped endpoint is ready.
	Staleness time.Duration
	// Decisions supplies recent routing decisions; nil shows none.
	Decisions *Decisions
	// TraceURL is the trace UI's link template (tracing.uiURL): a decision
	// with a trace ID links to it with "{traceID}" replaced. Empty shows
	// the trace ID without a link.
	TraceURL string
	// Sampler supplies the charts; nil shows empty charts.
	Sampler *Sampler
	// Sessions guards the page and its API with a login session or bearer
	// token; nil serves them without auth (metrics auth turned off). Its
	// Path must be [Path] and its LoginPage [LoginPage].
	Sessions *session.Manager
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives errors; nil discards.
	Logger *slog.Logger
}

// dashboard serves the page and its API.
type dashboard struct {
	pools     PoolLister
	staleness time.Duration
	decisions *Decisions
	traceURL  string
	sampler   *Sampler
	sessions  *session.Manager
	now       func() time.Time
	log       *slog.Logger
}

// New returns the handler of [Path] and everything below it, to be mounted
// on the metrics listener's mux for both "/dashboard" and "/dashboard/":
//
//   - GET /dashboard: the page (guarded; without credentials 401 and the
//     login form).
//   - GET /dashboard/api/state: the [State] JSON the page polls (guarded).
//   - POST /dashboard/login and /dashboard/logout: start and end a browser
//     session (only with Sessions).
//   - GET /dashboard/assets/: the embedded script and stylesheet (not
//     guarded: they hold no data and the login page needs the stylesheet).
//
// Every answer forbids framing, sniffing and caching of data, and carries a
// Content-Security-Policy that allows only the dashboard's own files.
func New(o Options) http.Handler {
	d := &dashboard{
		pools:     o.Pools,
		staleness: o.Staleness,
		decisions: o.Decisions,
		traceURL:  o.TraceURL,
		sampler:   o.Sampler,
		sessions:  o.Sessions,
		now:       o.Now,
		log:       o.Logger,
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	guard := func(h http.Handler) http.Handler { return h }
	mux := http.NewServeMux()
	if d.sessions != nil {
		guard = d.sessions.Guard
		mux.HandleFunc(LoginPath, d.sessions.ServeLogin)
		mux.HandleFunc(LogoutPath, d.sessions.ServeLogout)
	}
	mux.Handle("GET "+Path, guard(http.HandlerFunc(servePage)))
	mux.Handle("GET "+Path+"/{$}", http.RedirectHandler(Path, http.StatusMovedPermanently))
	mux.Handle("GET "+StatePath, guard(http.HandlerFunc(d.serveState)))
	static, err := fs.Sub(web, "web/static")
	if err != nil {
		panic("dashboard: embedded assets missing: " + err.Error()) // cannot happen: checked at build time by go:embed
	}
	mux.Handle("GET "+AssetsPath, http.StripPrefix(AssetsPath, http.FileServerFS(static)))
	return securityHeaders(mux)
}

// securityHeaders sets the headers every dashboard answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if len(r.URL.Path) >= len(AssetsPath) && r.URL.Path[:len(AssetsPath)] == AssetsPath {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
