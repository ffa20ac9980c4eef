package telemetry

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Limits of the /metrics handler.
const (
	// maxConcurrentScrapes bounds parallel gathers; extra scrapes get 503.
	maxConcurrentScrapes = 4
	// scrapeTimeout is below the 5 s scrape timeout GMP and our examples use,
	// so a slow gather answers 503 before the scraper gives up.
	scrapeTimeout = 4 * time.Second
)

// AdminOptions configures [NewAdminHandler].
type AdminOptions struct {
	// Gatherer supplies /metrics, normally the registry from [NewRegistry].
	// Required.
	Gatherer prometheus.Gatherer
	// Guard wraps the protected routes: /metrics and /debug/pprof/. nil
	// leaves them open.
	Guard func(http.Handler) http.Handler
	// Ready drives /readyz: 200 when it returns true, 503 otherwise. nil
	// means always ready. /healthz is always 200.
	Ready func() bool
	// Logger receives exposition errors. nil discards them.
	Logger *slog.Logger
	// Dashboard, when set, serves /dashboard and every path below it. It is
	// not wrapped in Guard: it authenticates its own routes, because its
	// login form must be reachable without a token.
	Dashboard http.Handler
}

// NewAdminHandler returns the mux of the metrics/admin listener:
//
//   - GET /metrics: Prometheus text exposition (guarded). Collection errors
//     are logged and the remaining metrics still served; gzip is offered;
//     OpenMetrics is off, so `le` labels keep the classic formatting.
//   - /debug/pprof/ and its sub-pages (guarded). Block and mutex profiling
//     rates are left at their defaults (off).
//   - GET /healthz: always 200 "ok" (liveness; no auth).
//   - GET /readyz: 200 "ok" or 503 "not ready" (readiness; no auth).
//   - /dashboard and below: [AdminOptions.Dashboard], when set.
//
// Anything else is 404.
func NewAdminHandler(opts AdminOptions) http.Handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	guard := opts.Guard
	if guard == nil {
		guard = func(h http.Handler) http.Handler { return h }
	}
	ready := opts.Ready
	if ready == nil {
		ready = func() bool { return true }
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", guard(promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:            promErrorLog{logger: logger},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxConcurrentScrapes,
		Timeout:             scrapeTimeout,
	})))
	mux.Handle("/debug/pprof/", guard(http.HandlerFunc(pprof.Index)))
	mux.Handle("/debug/pprof/cmdline", guard(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("/debug/pprof/profile", guard(http.HandlerFunc(pprof.Profile)))
	mux.Handle("/debug/pprof/symbol", guard(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("/debug/pprof/trace", guard(http.HandlerFunc(pprof.Trace)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			writeText(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	if opts.Dashboard != nil {
		mux.Handle("/dashboard", opts.Dashboard)
		mux.Handle("/dashboard/", opts.Dashboard)
	}
	return mux
}

// writeText writes a short plain-text body with status code.
func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, body)
}

// promErrorLog adapts a slog.Logger to promhttp's Println-style error log.
type promErrorLog struct{ logger *slog.Logger }

// Println implements [promhttp.Logger].
func (l promErrorLog) Println(v ...any) {
	l.logger.Error("serving metrics", slog.String("err", fmt.Sprint(v...)))
}
