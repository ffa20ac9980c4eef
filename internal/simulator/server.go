package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxBodyBytes caps a request body; larger bodies are answered 413.
const maxBodyBytes = 16 << 20

// Server is one simulated model-server replica: the OpenAI endpoints, /health
// and /metrics over one engine. Create it with [New] and run it with
// [Server.Serve] (or mount [Server.Handler] elsewhere and call [Server.Run]).
// Servers share nothing, so one process can run many.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry
	engine   *engine
	handler  http.Handler
	salts    map[string]uint64 // servable model or adapter name → hash salt
	models   modelList
	started  atomic.Bool

	faultMu   sync.Mutex
	createdAt time.Time // the start of the unavailable-burst cycle
	faultRand *rand.Rand
	nextID    atomic.Uint64

	answered atomic.Int64
	done     chan struct{}
	doneOnce sync.Once
	// closing is closed when Serve starts shutting down, releasing hung
	// requests.
	closing   chan struct{}
	closeOnce sync.Once
}

// New validates cfg (reporting every problem at once) and returns a Server
// that is not running yet. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	adapters := cfg.adapters()
	cfg.LoRAs = adapters
	cfg.PreloadedLoRAs = append([]string(nil), cfg.PreloadedLoRAs...)
	s := &Server{
		cfg:       cfg,
		logger:    logger.With("component", "simulator", "replica", cfg.Name),
		registry:  prometheus.NewRegistry(),
		salts:     map[string]uint64{cfg.Model: hashSalt(cfg.Model, "")},
		faultRand: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		createdAt: time.Now(),
		done:      make(chan struct{}),
		closing:   make(chan struct{}),
	}
	for _, a := range adapters {
		s.salts[a] = hashSalt(cfg.Model, a)
	}
	var rec recorder
	if cfg.Engine == EngineSGLang {
		rec = newSGLangMetrics(s.registry, &s.cfg)
	} else {
		rec = newVLLMMetrics(s.registry, &s.cfg)
	}
	s.engine = newEngine(cfg.Profile, cfg.PreloadedLoRAs, cfg.TimeScale, rec)
	s.engine.publishState()
	s.models = newModelList(&s.cfg, time.Now())
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler: POST /v1/completions,
// POST /v1/chat/completions, GET /v1/models, GET /health and GET /metrics.
// Every response carries the x-inference-pod header. Completion requests
// need the engine running ([Server.Serve] or [Server.Run]).
func (s *Server) Handler() http.Handler { return s.handler }

// Done is closed once Config.ExitAfter completion requests have been
// answered; it is never closed when ExitAfter is 0.
func (s *Server) Done() <-chan struct{} { return s.done }

// Run runs the engine until ctx is done, for callers that serve
// [Server.Handler] themselves. It returns once the engine has stopped;
// requests still in it are answered with an error. A Server runs once:
// a second Run or Serve returns an error.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("simulator: server already started")
	}
	s.engine.run(ctx)
	return nil
}

// Serve runs the engine and serves HTTP on ln until ctx is done or
// [Server.Done] is closed. It then stops accepting connections, lets
// in-flight requests finish for up to Config.ShutdownTimeout (closing the
// connections after that), stops the engine and returns nil. It returns an
// error only when serving failed. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.started.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("simulator: server already started")
	}
	engineCtx, stopEngine := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.engine.run(engineCtx) })
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- hs.Serve(ln) })
	s.logger.Info("simulator serving", "addr", ln.Addr().String(), "model", s.cfg.Model,
		"engine", s.cfg.Engine, "profile", s.cfg.Profile.Name, "time_scale", s.cfg.TimeScale)

	var err error
	select {
	case <-ctx.Done():
	case <-s.done:
		s.logger.Info("simulator exiting after answering its requests", "exit_after", s.cfg.ExitAfter)
	case err = <-serveErr:
	}
	s.closeOnce.Do(func() { close(s.closing) })
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	if shutdownErr := hs.Shutdown(shutdownCtx); shutdownErr != nil {
		s.logger.Warn("graceful shutdown incomplete, closing connections", "err", shutdownErr)
		_ = hs.Close()
	}
	cancel()
	stopEngine()
	wg.Wait()
	s.logger.Info("simulator stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// routes builds the handler.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", s.traced(s.serveCompletion(endpointCompletions)))
	mux.HandleFunc("POST /v1/chat/completions", s.traced(s.serveCompletion(endpointChat)))
	mux.HandleFunc("GET /v1/models", s.serveModels)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-inference-pod", s.cfg.Name)
		mux.ServeHTTP(w, r)
	})
}

// injectError reports whether this request gets an injected 500.
func (s *Server) injectError() bool {
	if s.cfg.ErrorRate <= 0 {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultRand.Float64() < s.cfg.ErrorRate
}

// unavailable reports whether now is inside an injected 503 burst.
func (s *Server) unavailable() bool {
	if s.cfg.UnavailableEvery <= 0 {
		return false
	}
	return time.Since(s.createdAt)%s.cfg.UnavailableEvery < s.cfg.UnavailableFor
}

// countAnswered counts a finished completion request for ExitAfter.
func (s *Server) countAnswered() {
	n := s.answered.Add(1)
	if s.cfg.ExitAfter > 0 && n >= int64(s.cfg.ExitAfter) {
		s.doneOnce.Do(func() { close(s.done) })
	}
}

// responseID returns a reproducible response id with the given prefix.
func (s *Server) responseID(prefix string) string {
	n := s.nextID.Add(1)
	return fmt.Sprintf("%s%016x", prefix, mix64(uint64(s.cfg.Seed)^n))
}
