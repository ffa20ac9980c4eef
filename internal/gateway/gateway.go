package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/modelmetrics"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/proxy"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/telemetry"
)

// Options are process-level inputs that are not part of the config file.
type Options struct {
	// Logger receives all logs; nil discards.
	Logger *slog.Logger
	// Commit and BuildRef label inference_extension_info.
	Commit, BuildRef string
}

// Gateway is an assembled, not yet running gateway.
type Gateway struct {
	cfg       *config.Config
	log       *slog.Logger
	stores    []*pool.Store
	scheds    []*scheduler.Scheduler
	scraper   *modelmetrics.Scraper
	metrics   *telemetry.Metrics
	proxy     *proxy.Handler
	admin     http.Handler
	ready     atomic.Bool
	ln, admLn net.Listener
	live      *liveDashboard // built-in dashboard (dashboard.go)
}

// New builds a gateway from a validated configuration.
func New(cfg *config.Config, o Options) (*Gateway, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := telemetry.NewRegistry()
	metrics := telemetry.NewMetrics(reg, telemetry.Options{
		LegacyNames:    cfg.Metrics.Legacy(),
		ModelNameLimit: cfg.Metrics.ModelNameLimit,
		Commit:         o.Commit,
		BuildRef:       o.BuildRef,
	})
	g := &Gateway{cfg: cfg, log: log, metrics: metrics}
	g.live = newLiveDashboard(reg, log.With("component", "dashboard"))

	for _, pc := range cfg.Pools {
		st := pool.NewStore(pc.Name)
		specs := make([]pool.Spec, 0, len(pc.Endpoints))
		for _, e := range pc.Endpoints {
			specs = append(specs, pool.Spec{Name: e.Name, Address: e.Address, Engine: pool.Engine(e.Engine)})
		}
		st.Sync(specs)
		g.stores = append(g.stores, st)
		if err := reg.Register(telemetry.NewPoolCollector(st, cfg.Scrape.Staleness.Duration, time.Now)); err != nil {
			return nil, fmt.Errorf("register pool collector %s: %w", pc.Name, err)
		}
	}

	routes := make([]router.Pool, 0, len(g.stores))
	for _, st := range g.stores {
		s := scheduler.New(schedulerConfig(cfg), nil)
		g.scheds = append(g.scheds, s)
		routes = append(routes, router.Pool{Store: st, Scheduler: s})
	}
	g.scraper = modelmetrics.NewScraper(modelmetrics.Options{
		Interval:       cfg.Scrape.Interval.Duration,
		Timeout:        cfg.Scrape.Timeout.Duration,
		ModelsInterval: cfg.Scrape.ModelsInterval.Duration,
		Logger:         log.With("component", "scraper"),
		Registerer:     reg,
	})

	objectives := make(map[string]int, len(cfg.Objectives))
	for _, ob := range cfg.Objectives {
		objectives[ob.Name] = ob.Priority
	}
	models := make([]router.Model, 0, len(cfg.Models))
	for _, m := range cfg.Models {
		rm := router.Model{Name: m.Name, Pool: m.Pool, Objective: m.Objective}
		for _, t := range m.Targets {
			rm.Targets = append(rm.Targets, router.Target{Model: t.Model, Weight: t.Weight})
		}
		models = append(models, rm)
	}
	rt := router.New(router.Options{
		Pools:      routes,
		Models:     models,
		Objectives: objectives,
		Admission:  admission.New(),
		Metrics:    metrics,
		Logger:     log.With("component", "router"),
		Decisions:  g.live.decisions,
	})
	g.proxy = proxy.New(proxy.Options{
		Router:             rt,
		Metrics:            metrics,
		Logger:             log.With("component", "proxy"),
		MaxBodyBytes:       cfg.Limits.MaxBodyBytes,
		MaxRetries:         cfg.Upstream.Retries(),
		ConnectTimeout:     cfg.Upstream.ConnectTimeout.Duration,
		FirstByteTimeout:   cfg.Upstream.FirstByteTimeout.Duration,
		IdleTimeout:        cfg.Upstream.IdleTimeout.Duration,
		StripAuthorization: !cfg.Upstream.ForwardAuth(),
	})

	var guard func(http.Handler) http.Handler
	var authn auth.Authenticator
	if cfg.Metrics.Auth.On() {
		tokens, err := auth.LoadTokenFile(cfg.Metrics.Auth.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("metrics auth: %w", err)
		}
		authn = tokens
		guard = auth.Middleware(tokens, auth.AllowAll{}, auth.MiddlewareOptions{Logger: log.With("component", "auth")})
	}
	g.admin = telemetry.NewAdminHandler(telemetry.AdminOptions{
		Gatherer: reg,
		Guard:    guard,
		Ready:    g.ready.Load,
		Logger:   log.With("component", "admin"),
		// Dashboard: /dashboard behind the same tokens, plus a login session.
		Dashboard: g.live.handler(cfg, g.stores, authn, log.With("component", "dashboard")),
	})
	return g, nil
}

// schedulerConfig maps the config file's scheduler section.
func schedulerConfig(cfg *config.Config) scheduler.Config {
	sc := scheduler.DefaultConfig()
	s := cfg.Scheduler
	sc.Strategy = scheduler.Strategy(s.Strategy)
	sc.Weights = scheduler.Weights{
		Queue:    s.Weights.QueueWeight(),
		KVCache:  s.Weights.KVCacheWeight(),
		Prefix:   s.Weights.PrefixWeight(),
		LoRA:     s.Weights.LoRAWeight(),
		InFlight: s.Weights.InFlightWeight(),
	}
	sc.QueueDepthThreshold = s.QueueDepthThreshold
	sc.KVCacheThreshold = s.KVCacheThreshold
	sc.Staleness = cfg.Scrape.Staleness.Duration
	sc.PrefixBlockTokens = s.PrefixBlockTokens
	sc.PrefixMaxBlocks = s.PrefixMaxBlocks
	sc.PrefixLRUCapacity = s.PrefixLRUCapacity
	return sc
}

// Listen binds the proxy and metrics listeners. Call it before Serve; the
// bound addresses are then available from Addr and MetricsAddr.
func (g *Gateway) Listen() error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", g.cfg.Listen, err)
	}
	admLn, err := net.Listen("tcp", g.cfg.MetricsListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen %s: %w", g.cfg.MetricsListen, err)
	}
	g.ln, g.admLn = ln, admLn
	return nil
}

// Addr returns the proxy listener's address (after Listen).
func (g *Gateway) Addr() net.Addr { return g.ln.Addr() }

// MetricsAddr returns the metrics listener's address (after Listen).
func (g *Gateway) MetricsAddr() net.Addr { return g.admLn.Addr() }

// Handler returns the OpenAI proxy handler, for embedding in other servers.
func (g *Gateway) Handler() http.Handler { return g.proxy }

// Serve runs the gateway until ctx is done, then shuts down gracefully:
// readiness turns 503, listeners stop accepting and in-flight requests
// (streams included) get the configured grace period to finish, then the
// background loops stop. It returns nil after a clean shutdown.
func (g *Gateway) Serve(ctx context.Context) error {
	if g.ln == nil {
		if err := g.Listen(); err != nil {
			return err
		}
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var loops errgroup.Group
	loops.Go(func() error { return g.scraper.Run(bg, g.stores...) })
	loops.Go(func() error { g.maintain(bg); return nil })
	loops.Go(func() error { g.live.sampler.Run(bg); return nil })
	g.warmUp(ctx)

	proxySrv := &http.Server{Handler: g.proxy, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)}
	adminSrv := &http.Server{Handler: g.admin, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)}
	var servers errgroup.Group
	servers.Go(func() error { return serve(proxySrv, g.ln) })
	servers.Go(func() error { return serve(adminSrv, g.admLn) })
	g.ready.Store(true)
	g.log.Info("gateway serving", "proxy", g.ln.Addr().String(), "metrics", g.admLn.Addr().String(), "pools", len(g.stores))

	serveErr := make(chan error, 1)
	go func() { serveErr <- servers.Wait() }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}

	g.ready.Store(false)
	g.log.Info("shutting down", "grace_period", g.cfg.Shutdown.GracePeriod.Duration)
	graceCtx, cancel := context.WithTimeout(context.Background(), g.cfg.Shutdown.GracePeriod.Duration)
	defer cancel()
	if serr := proxySrv.Shutdown(graceCtx); serr != nil {
		g.log.Warn("grace period over; closing remaining connections", "err", serr)
		proxySrv.Close()
	}
	adminSrv.Close()
	if err == nil {
		err = <-serveErr
	}
	stopBG()
	if lerr := loops.Wait(); lerr != nil && !errors.Is(lerr, context.Canceled) {
		err = errors.Join(err, lerr)
	}
	g.log.Info("stopped")
	return err
}

func serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warmUp scrapes every endpoint (metrics and model list) before traffic is
// admitted, so the first requests are routed on real data and discovered
// models are known. Each endpoint is retried until it answers or the
// warm-up budget is spent; failures are only logged, the loops keep trying.
func (g *Gateway) warmUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, warmUpBudget)
	defer cancel()
	var wg errgroup.Group
	for _, st := range g.stores {
		for _, ep := range st.Load().Endpoints() {
			wg.Go(func() error {
				for {
					err := g.scraper.ScrapeOnce(ctx, ep)
					if err == nil {
						return nil
					}
					select {
					case <-ctx.Done():
						g.log.Warn("endpoint not reachable yet", "endpoint", ep.Name(), "address", ep.Address(), "err", err)
						return nil
					case <-time.After(warmUpRetry):
					}
				}
			})
		}
	}
	_ = wg.Wait()
}

// Warm-up bounds: total time, and the pause between tries of one endpoint.
const (
	warmUpBudget = 5 * time.Second
	warmUpRetry  = 50 * time.Millisecond
)

// maintain refreshes slow-moving gauges and drops scheduler state for
// endpoints that left their pool, once a second.
func (g *Gateway) maintain(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	seen := make([]*pool.Snapshot, len(g.stores))
	for {
		size := 0
		for i, st := range g.stores {
			size += g.scheds[i].PrefixIndexSize()
			if snap := st.Load(); snap != seen[i] {
				g.scheds[i].Forget(snap)
				seen[i] = snap
			}
		}
		g.metrics.SetPrefixIndexSize(size)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
