package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/connlimit"
	"github.com/infergate/infergate/internal/modelmetrics"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/proxy"
	"github.com/infergate/infergate/internal/recovery"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/telemetry"
	"github.com/infergate/infergate/internal/tracing"
)

// Options are process-level inputs that are not part of the config file.
type Options struct {
	// Logger receives all logs; nil discards.
	Logger *slog.Logger
	// Commit and BuildRef label inference_extension_info.
	Commit, BuildRef string
	// Registry receives the gateway's metrics and is what /metrics serves;
	// nil means a new [telemetry.NewRegistry]. Inject it to add collectors
	// of parts built outside the gateway (such as [Options.MetricsAuth]).
	Registry *prometheus.Registry
	// Discovery, when set, supplies the catalog (Kubernetes mode): Serve
	// runs it next to the gateway, handing it the function that applies a
	// catalog, and reports ready once it has synced.
	Discovery Discovery
	// MetricsAuth checks the metrics listener's callers when the config's
	// metrics.auth.mode is "kubernetes"; it is ignored otherwise (static
	// mode reads the token file itself).
	MetricsAuth *MetricsAuth
	// Getenv reads the OTEL_* environment variables tracing falls back on;
	// nil means os.Getenv.
	Getenv func(string) string
}

// Discovery is a source of catalogs that runs as long as the gateway, such
// as the Kubernetes controller.
type Discovery interface {
	// Run runs until ctx is done and then returns nil. It hands every new
	// catalog to publish, from one goroutine at a time.
	Run(ctx context.Context, publish func(config.Catalog)) error
	// Synced is closed once the first catalog has been published.
	Synced() <-chan struct{}
}

// MetricsAuth is an authenticator and authorizer pair for the metrics
// listener.
type MetricsAuth struct {
	// Authenticator maps a bearer token to a user (401 when it cannot).
	Authenticator auth.Authenticator
	// Authorizer decides whether the user may GET the path (403 when not).
	Authorizer auth.Authorizer
}

// Gateway is an assembled, not yet running gateway.
type Gateway struct {
	cfg       *config.Config
	log       *slog.Logger
	reg       *prometheus.Registry
	set       *pool.Set
	router    *router.Router
	scraper   *modelmetrics.Scraper
	metrics   *telemetry.Metrics
	outliers  *telemetry.OutlierMetrics
	flowObs   *telemetry.FlowMetrics
	budget    *admission.Budget // request bodies, in flight and queued
	proxy     *proxy.Handler
	admin     http.Handler
	discovery Discovery
	ready     atomic.Bool
	ln, admLn net.Listener       // ln is nil when the proxy is off
	listened  bool               // Listen ran
	connLimit *connlimit.Limiter // counts the proxy listener's connections
	tls       tlsConfigs         // nil fields: plain HTTP (tls.go)
	live      *liveDashboard     // built-in dashboard (dashboard.go)
	tracing   *tracing.Provider  // owned; flushed and stopped when Serve returns
	extProc   *extProcFront      // nil when extProc.listen is off (extproc.go)

	catalogMu  sync.Mutex
	pools      map[string]*servedPool  // by name; guarded by catalogMu
	configured []telemetry.PinnedModel // the catalog's models and targets; guarded by catalogMu
	nameSets   telemetry.NameSets      // the metric name sets emitted
}

// servedPool is one pool's store, scheduler, flow control and metrics
// collector.
type servedPool struct {
	store     *pool.Store
	sched     *scheduler.Scheduler
	flow      *admission.Queue
	collector prometheus.Collector
}

// New builds a gateway from a validated configuration. In static mode the
// catalog is the file's; in Kubernetes mode it starts empty and
// o.Discovery fills it.
func New(cfg *config.Config, o Options) (*Gateway, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := o.Registry
	if reg == nil {
		reg = telemetry.NewRegistry()
	}
	nameSets, err := telemetry.ParseNameSets(cfg.Metrics.Sets())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	metrics := telemetry.NewMetrics(reg, telemetry.Options{
		NameSets:       nameSets,
		ModelNameLimit: cfg.Metrics.ModelNameLimit,
		ModelPairLimit: cfg.Metrics.ModelPairLimit,
		Commit:         o.Commit,
		BuildRef:       o.BuildRef,
		Plugins:        schedulerConfig(cfg).Plugins(),
	})
	tlsCfg, err := loadTLS(cfg, log.With("component", "tls"))
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:       cfg,
		tls:       tlsCfg,
		log:       log,
		reg:       reg,
		set:       pool.NewSet(),
		metrics:   metrics,
		nameSets:  nameSets,
		flowObs:   telemetry.NewFlowMetrics(reg, metrics),
		budget:    admission.NewBudget(cfg.Limits.MaxBufferedBodyBytes),
		discovery: o.Discovery,
		pools:     make(map[string]*servedPool),
		connLimit: connlimit.New(connlimit.Options{PerAddress: cfg.Limits.MaxConnsPerAddress, Max: cfg.Limits.MaxConns}),
	}
	g.outliers = telemetry.NewOutlierMetrics(reg, g.set)
	g.live = newLiveDashboard(reg, log.With("component", "dashboard"))
	g.scraper = modelmetrics.NewScraper(modelmetrics.Options{
		Interval:       cfg.Scrape.Interval.Duration,
		Timeout:        cfg.Scrape.Timeout.Duration,
		ModelsInterval: cfg.Scrape.ModelsInterval.Duration,
		TLS:            tlsCfg.upstream,
		Logger:         log.With("component", "scraper"),
		Registerer:     reg,
	})
	g.router = router.New(router.Options{
		Admission: admission.New(),
		Observer:  metrics,
		Logger:    log.With("component", "router"),
		Decisions: g.live.decisions,
	})
	if !cfg.Kubernetes.Enabled {
		if err := g.SetCatalog(cfg.Catalog()); err != nil {
			return nil, err
		}
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	g.tracing, err = tracing.New(context.Background(), cfg.Tracing, getenv, "infergate", "github.com/infergate/infergate/internal/proxy")
	if err != nil {
		return nil, err
	}
	// One body budget (g.budget, which flow control marks its queued bytes
	// in) and one in-flight cap for both front ends.
	inflight := admission.NewInFlight(cfg.Limits.MaxInFlight)
	g.proxy = proxy.New(proxy.Options{
		InFlight:             inflight,
		Router:               g.router,
		Metrics:              metrics,
		Logger:               log.With("component", "proxy"),
		MaxBodyBytes:         cfg.Limits.MaxBodyBytes,
		MaxBufferedBodyBytes: cfg.Limits.MaxBufferedBodyBytes,
		Budget:               g.budget,
		QueueRetryAfter:      g.queueRetryAfter,
		BodyReadTimeout:      cfg.Limits.BodyReadTimeout.Duration,
		ClientStallTimeout:   cfg.Limits.ClientStallTimeout.Duration,
		MaxInFlight:          cfg.Limits.MaxInFlight,
		OverLimit:            connlimit.OverLimit,
		MaxRetries:           cfg.Upstream.Retries(),
		ConnectTimeout:       cfg.Upstream.ConnectTimeout.Duration,
		FirstByteTimeout:     cfg.Upstream.FirstByteTimeout.Duration,
		IdleTimeout:          cfg.Upstream.IdleTimeout.Duration,
		Staleness:            cfg.Scrape.Staleness.Duration,
		HedgeAfter:           cfg.Upstream.HedgeAfter.Duration,
		StripAuthorization:   !cfg.Upstream.ForwardAuth(),
		DropControlHeaders:   !cfg.TrustsControlHeaders(),
		TLS:                  tlsCfg.upstream,
		Tracer:               g.tracing.Tracer(),
		Propagator:           g.tracing.Propagator(),
	})
	if g.extProc, err = g.newExtProc(cfg, g.budget, inflight); err != nil {
		return nil, errors.Join(err, g.tracing.Shutdown(context.Background()))
	}

	ma, err := metricsAuth(cfg.Metrics.Auth, o.MetricsAuth)
	if err != nil {
		return nil, errors.Join(err, g.tracing.Shutdown(context.Background()))
	}
	var guard func(http.Handler) http.Handler
	var failures *auth.Failures
	if ma != nil {
		failures, err = metricsFailures(cfg.Metrics.Auth.FailureLimit, reg, log.With("component", "auth"))
		if err != nil {
			return nil, errors.Join(err, g.tracing.Shutdown(context.Background()))
		}
		guard = auth.Middleware(ma.Authenticator, ma.Authorizer, auth.MiddlewareOptions{Logger: log.With("component", "auth"), Failures: failures})
	}
	g.admin = telemetry.NewAdminHandler(telemetry.AdminOptions{
		Gatherer: reg,
		Guard:    guard,
		Ready:    g.ready.Load,
		Logger:   log.With("component", "admin"),
		// Dashboard: /dashboard behind the same auth, plus a login session.
		Dashboard: g.live.handler(cfg, g.set, ma, failures, log.With("component", "dashboard")),
	})
	return g, nil
}

// metricsAuth returns the metrics listener's auth for the config: nil when
// auth is off, the token file's tokens in static mode, the injected pair in
// Kubernetes mode.
func metricsAuth(a config.MetricsAuth, injected *MetricsAuth) (*MetricsAuth, error) {
	if !a.On() {
		return nil, nil
	}
	if a.Mode == config.AuthKubernetes {
		if injected == nil || injected.Authenticator == nil || injected.Authorizer == nil {
			return nil, errors.New("metrics auth: mode kubernetes needs a TokenReview authenticator and SubjectAccessReview authorizer")
		}
		return injected, nil
	}
	tokens, err := auth.LoadTokenFile(a.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("metrics auth: %w", err)
	}
	return &MetricsAuth{Authenticator: tokens, Authorizer: auth.AllowAll{}}, nil
}

// metricsListener is the listener label of the metrics listener's auth
// failures.
const metricsListener = "metrics"

// metricsFailures returns the failure handling of the metrics listener: one
// per-address budget for /metrics, /debug/pprof/ and the dashboard (bearer
// tokens and logins alike), counted on reg and logged to log.
func metricsFailures(fl config.FailureLimit, reg prometheus.Registerer, log *slog.Logger) (*auth.Failures, error) {
	m, err := auth.NewFailureMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics auth: %w", err)
	}
	return auth.NewFailures(auth.FailuresOptions{
		Listener: metricsListener,
		Limiter:  auth.NewFailureLimiter(auth.FailureLimitOptions{Burst: fl.Burst, PerSecond: fl.PerSecond}),
		Metrics:  m,
		Logger:   log,
	}), nil
}

// SetCatalog makes c the gateway's pools, models and objectives: pools new
// to c get a store, a scheduler and their inference_pool_* metrics; pools
// missing from c are dropped; every pool's endpoints are synced (endpoints
// that stay keep their metrics and in-flight counts). Requests already
// routed finish where they were sent. It is safe for concurrent use.
func (g *Gateway) SetCatalog(c config.Catalog) error {
	g.catalogMu.Lock()
	defer g.catalogMu.Unlock()
	keep := make(map[string]bool, len(c.Pools))
	stores := make([]*pool.Store, 0, len(c.Pools))
	routes := make([]router.Pool, 0, len(c.Pools))
	for _, pc := range c.Pools {
		sp, ok := g.pools[pc.Name]
		if !ok {
			st := pool.NewStore(pc.Name)
			if od := g.cfg.Upstream.OutlierDetection; od.On() {
				st.SetOutlierDetector(pool.NewOutlierDetector(od.Detector(), time.Now, g.outliers))
			}
			sched := scheduler.New(schedulerConfig(g.cfg), nil, scheduler.WithPluginObserver(g.metrics))
			sp = &servedPool{
				store:     st,
				sched:     sched,
				flow:      g.newFlow(pc.Name, st, sched),
				collector: telemetry.NewPoolCollector(st, g.cfg.Scrape.Staleness.Duration, time.Now, g.nameSets),
			}
			if err := g.reg.Register(sp.collector); err != nil {
				return fmt.Errorf("register pool collector %s: %w", pc.Name, err)
			}
			g.pools[pc.Name] = sp
			g.log.Info("serving pool", "pool", pc.Name)
		}
		keep[pc.Name] = true
		specs := make([]pool.Spec, 0, len(pc.Endpoints))
		for _, e := range pc.Endpoints {
			specs = append(specs, pool.Spec{Name: e.Name, Address: e.Address, Engine: pool.Engine(e.Engine)})
		}
		sp.store.Sync(specs)
		stores = append(stores, sp.store)
		routes = append(routes, router.Pool{Store: sp.store, Scheduler: sp.sched, Flow: sp.flow})
	}
	for name, sp := range g.pools {
		if !keep[name] {
			g.reg.Unregister(sp.collector)
			sp.flow.Close()
			g.flowObs.ForgetPool(name)
			delete(g.pools, name)
			g.log.Info("stopped serving pool", "pool", name)
		}
	}
	objectives := make(map[string]int, len(c.Objectives))
	for _, ob := range c.Objectives {
		objectives[ob.Name] = ob.Priority
	}
	models := make([]router.Model, 0, len(c.Models))
	configured := make([]telemetry.PinnedModel, 0, len(c.Models))
	for _, m := range c.Models {
		rm := router.Model{Name: m.Name, Pool: m.Pool, Objective: m.Objective}
		pm := telemetry.PinnedModel{Name: m.Name}
		for _, t := range m.Targets {
			rm.Targets = append(rm.Targets, router.Target{Model: t.Model, Weight: t.Weight})
			pm.Targets = append(pm.Targets, t.Model)
		}
		models = append(models, rm)
		configured = append(configured, pm)
	}
	g.configured = configured
	g.set.Replace(stores)
	g.router.SetCatalog(router.Catalog{Pools: routes, Models: models, Objectives: objectives})
	g.metrics.PinModels(configured)
	return nil
}

// publishCatalog applies a catalog from the discovery; a catalog that
// cannot be applied is logged and the previous one stays in force.
func (g *Gateway) publishCatalog(c config.Catalog) {
	if err := g.SetCatalog(c); err != nil {
		g.log.Error("applying the discovered catalog failed; the previous one stays", "err", err)
	}
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
	admLn, err := net.Listen("tcp", g.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", g.cfg.MetricsListen, err)
	}
	var ln net.Listener
	if g.cfg.Listen != config.ListenOff {
		if ln, err = net.Listen("tcp", g.cfg.Listen); err != nil {
			admLn.Close()
			return fmt.Errorf("listen %s: %w", g.cfg.Listen, err)
		}
		// The connection limits wrap the raw TCP listener, below any TLS.
		ln = g.connLimit.Listener(ln)
	}
	if g.extProc != nil {
		if err := g.extProc.listen(g.cfg.ExtProc); err != nil {
			if ln != nil {
				ln.Close()
			}
			admLn.Close()
			return err
		}
	}
	g.ln, g.admLn = ln, admLn
	g.listened = true
	return nil
}

// Addr returns the proxy listener's address (after Listen), nil when the
// proxy is off.
func (g *Gateway) Addr() net.Addr {
	if g.ln == nil {
		return nil
	}
	return g.ln.Addr()
}

// MetricsAddr returns the metrics listener's address (after Listen).
func (g *Gateway) MetricsAddr() net.Addr { return g.admLn.Addr() }

// Handler returns the OpenAI proxy handler, for embedding in other servers.
func (g *Gateway) Handler() http.Handler { return g.proxy }

// Serve runs the gateway until ctx is done, then shuts down gracefully:
// readiness turns 503, listeners stop accepting and in-flight requests
// (streams included) get the configured grace period to finish, then the
// background loops stop. It returns nil after a clean shutdown.
func (g *Gateway) Serve(ctx context.Context) error {
	if !g.listened {
		if err := g.Listen(); err != nil {
			return err
		}
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var loops errgroup.Group
	if g.discovery != nil {
		loops.Go(func() error { return g.discovery.Run(bg, g.publishCatalog) })
	}
	loops.Go(func() error { return g.scraper.Run(bg, g.set) })
	loops.Go(func() error { g.maintain(bg); return nil })
	loops.Go(func() error { g.live.sampler.Run(bg); return nil })
	g.waitSynced(ctx)
	g.warmUp(ctx)
	g.metrics.PinModels(g.pinnedModels()) // before the first request, not a second later

	// Started in this order, stopped in reverse: the proxy drains while the
	// metrics listener still answers scrapes.
	run := &servers{log: g.log}
	run.add("metrics", &http.Server{Handler: recovery.Handler(g.admin, "admin", g.metrics, g.log),
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: g.cfg.Limits.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)}, tlsListener(g.admLn, g.tls.metrics))
	if e := g.extProc; e != nil {
		// Health before ext_proc, so it is stopped after: a probe sees
		// NOT_SERVING while the streams drain.
		if e.health != nil {
			run.add("extproc-health", e.health, e.healthLn)
		}
		run.add("extproc", e.grpc, e.ln)
	}
	if g.ln != nil {
		run.add("proxy", &http.Server{Handler: recovery.Handler(g.proxy, "proxy", g.metrics, g.log),
			ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: g.cfg.Limits.MaxHeaderBytes,
			ConnState: g.connLimit.ConnState, ConnContext: g.connLimit.ConnContext,
			ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)}, tlsListener(g.ln, g.tls.proxy))
	}
	run.start()
	g.ready.Store(true)
	g.extProc.setReady(true)
	proxyAddr := "off"
	if g.ln != nil {
		proxyAddr = g.ln.Addr().String()
	}
	g.log.Info("gateway serving", append([]any{"proxy", proxyAddr, "metrics", g.admLn.Addr().String(), "pools", len(g.set.Stores()),
		"proxy_tls", g.tls.proxy != nil, "metrics_tls", g.tls.metrics != nil, "upstream_tls", g.tls.upstream != nil}, g.extProc.logAttrs()...)...)

	var err error
	select {
	case <-ctx.Done():
	case err = <-run.failed():
	}

	g.ready.Store(false)
	g.extProc.setReady(false)
	g.log.Info("shutting down", "grace_period", g.cfg.Shutdown.GracePeriod.Duration)
	// Queued requests get 503 rejected-shutting-down at once, and so do
	// requests arriving while the listeners drain.
	for _, sp := range g.servedPools() {
		sp.flow.Close()
	}
	graceCtx, cancel := context.WithTimeout(context.Background(), g.cfg.Shutdown.GracePeriod.Duration)
	defer cancel()
	err = errors.Join(err, run.shutdown(graceCtx))
	stopBG()
	if lerr := loops.Wait(); lerr != nil && !errors.Is(lerr, context.Canceled) {
		err = errors.Join(err, lerr)
	}
	// The spans of the drained requests are flushed before the process ends.
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), tracingFlushTimeout)
	defer cancelFlush()
	if terr := g.tracing.Shutdown(flushCtx); terr != nil {
		// A collector that is down loses the last spans, not the shutdown.
		g.log.Warn("tracing: flushing the last spans failed", "err", terr)
	}
	g.log.Info("stopped")
	return err
}

// warmUp scrapes every endpoint (metrics and model list) before traffic is
// admitted, so the first requests are routed on real data and discovered
// models are known. Each endpoint is retried until it answers or the
// warm-up budget is spent; failures are only logged, the loops keep trying.
func (g *Gateway) warmUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, warmUpBudget)
	defer cancel()
	var wg errgroup.Group
	for _, st := range g.set.Stores() {
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

// tracingFlushTimeout bounds exporting the last spans at shutdown.
const tracingFlushTimeout = 5 * time.Second

// Warm-up bounds: total time, and the pause between tries of one endpoint.
const (
	warmUpBudget = 5 * time.Second
	warmUpRetry  = 50 * time.Millisecond
)

// waitSynced waits until the discovery has published its first catalog, so
// readiness means "routing on the cluster's state". Without a discovery it
// returns at once. It gives up when ctx ends.
func (g *Gateway) waitSynced(ctx context.Context) {
	if g.discovery == nil {
		return
	}
	select {
	case <-g.discovery.Synced():
	case <-ctx.Done():
	}
}

// maintain refreshes slow-moving gauges and drops scheduler state for
// endpoints that left their pool, once a second.
func (g *Gateway) maintain(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	seen := make(map[*scheduler.Scheduler]*pool.Snapshot)
	for {
		size := 0
		next := make(map[*scheduler.Scheduler]*pool.Snapshot, len(seen))
		for _, sp := range g.servedPools() {
			size += sp.sched.PrefixIndexSize()
			sp.flow.Report() // keep the saturation gauge fresh without traffic
			snap := sp.store.Load()
			if snap != seen[sp.sched] {
				sp.sched.Forget(snap)
			}
			next[sp.sched] = snap
		}
		seen = next
		g.metrics.SetPrefixIndexSize(size)
		g.metrics.PinModels(g.pinnedModels())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pinnedModels returns the model names whose labels are exempt from the
// metrics' client-derived cap: the configured models and their targets and
// every model a replica lists.
func (g *Gateway) pinnedModels() []telemetry.PinnedModel {
	g.catalogMu.Lock()
	pins := slices.Clone(g.configured)
	g.catalogMu.Unlock()
	for _, st := range g.set.Stores() {
		for _, ep := range st.Load().Endpoints() {
			for _, m := range ep.Models() {
				pins = append(pins, telemetry.PinnedModel{Name: m})
			}
		}
	}
	return pins
}

// servedPools returns the current pools.
func (g *Gateway) servedPools() []*servedPool {
	g.catalogMu.Lock()
	defer g.catalogMu.Unlock()
	out := make([]*servedPool, 0, len(g.pools))
	for _, sp := range g.pools {
		out = append(out, sp)
	}
	return out
}
