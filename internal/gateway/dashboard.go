package gateway

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/dashboard"
	"github.com/infergate/infergate/internal/session"
)

// liveDashboard is the built-in dashboard's state: the routing-decision ring
// the router records into and the sampler Serve runs.
type liveDashboard struct {
	decisions *dashboard.Decisions
	sampler   *dashboard.Sampler
}

// newLiveDashboard creates the dashboard's recorders over the registry.
func newLiveDashboard(reg prometheus.Gatherer, log *slog.Logger) *liveDashboard {
	return &liveDashboard{
		decisions: dashboard.NewDecisions(0),
		sampler:   dashboard.NewSampler(dashboard.SamplerOptions{Gatherer: reg, Logger: log}),
	}
}

// handler returns /dashboard for the metrics listener. ma is the metrics
// listener's auth, nil when metrics auth is off (the dashboard is then open
// too); failures is the listener's failure handling, shared with /metrics.
func (d *liveDashboard) handler(cfg *config.Config, pools dashboard.PoolLister, ma *MetricsAuth, failures *auth.Failures, log *slog.Logger) http.Handler {
	var sessions *session.Manager
	if ma != nil {
		sessions = session.New(session.Options{
			Authenticator: ma.Authenticator,
			Authorizer:    ma.Authorizer,
			Path:          dashboard.Path,
			LoginPage:     dashboard.LoginPage,
			Logger:        log,
			Failures:      failures,
		})
	}
	return dashboard.New(dashboard.Options{
		Pools:     pools,
		Staleness: cfg.Scrape.Staleness.Duration,
		Decisions: d.decisions,
		TraceURL:  cfg.Tracing.UIURL,
		Sampler:   d.sampler,
		Sessions:  sessions,
		Logger:    log,
	})
}
