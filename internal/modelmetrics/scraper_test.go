package modelmetrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testModels = `{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model"},{"id":"sql-lora","object":"model","parent":"meta-llama/Llama-3.1-8B-Instruct"},{"id":""}]}`

// fakeServer is a model server on loopback whose answers tests can change.
type fakeServer struct {
	srv         *httptest.Server
	engine      pool.Engine
	exposition  atomic.Pointer[string]
	models      atomic.Pointer[string]
	status      atomic.Int32 // Status of metrics responses; 0 means 200.
	drop        atomic.Bool  // Close connections without answering.
	metricsHits atomic.Int64
	modelsHits  atomic.Int64
}

func newFakeServer(t *testing.T, engine pool.Engine, exposition string) *fakeServer {
	t.Helper()
	f := &fakeServer{engine: engine}
	f.exposition.Store(&exposition)
	models := testModels
	f.models.Store(&models)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if f.drop.Load() {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	switch r.URL.Path {
	case MetricsPath(f.engine):
		f.metricsHits.Add(1)
		if s := f.status.Load(); s != 0 {
			http.Error(w, "unavailable", int(s))
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(*f.exposition.Load()))
	case "/v1/models":
		f.modelsHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(*f.models.Load()))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeServer) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeServer) spec(name string) pool.Spec {
	return pool.Spec{Name: name, Address: f.addr(), Engine: f.engine}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		// Poll pause, not a timing assumption: the deadline above bounds the wait.
		<-time.After(time.Millisecond)
	}
}

// startRun runs s.Run in the background and returns a stop function that
// cancels it and checks that it returned nil.
func startRun(t *testing.T, s *Scraper, stores ...*pool.Store) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, pool.NewSet(stores...)) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestScrapeOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		engine     pool.Engine
		file       string
		wantQueue  int
		wantModels []string
	}{
		{name: "vLLM", engine: pool.EngineVLLM, file: "vllm_v1.txt", wantQueue: 2},
		{name: "SGLang", engine: pool.EngineSGLang, file: "sglang.txt", wantQueue: 6},
		{name: "trtllm-serve at /prometheus/metrics", engine: pool.EngineTRTLLM, file: "trtllm.txt", wantQueue: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, tc.engine, readTestdata(t, tc.file))
			ep := pool.NewEndpoint(srv.spec("ep"))
			s := NewScraper(Options{Interval: time.Second})

			before := time.Now()
			if err := s.ScrapeOnce(t.Context(), ep); err != nil {
				t.Fatalf("ScrapeOnce: %v", err)
			}
			after := time.Now()

			m := ep.Metrics()
			if m == nil {
				t.Fatal("no metrics published")
			}
			if m.WaitingQueue != tc.wantQueue {
				t.Errorf("WaitingQueue = %d, want %d", m.WaitingQueue, tc.wantQueue)
			}
			if m.ScrapedAt.Before(before) || m.ScrapedAt.After(after) {
				t.Errorf("ScrapedAt = %v, want within [%v, %v]", m.ScrapedAt, before, after)
			}
			want := []string{"meta-llama/Llama-3.1-8B-Instruct", "sql-lora"}
			if diff := cmp.Diff(want, ep.Models()); diff != "" {
				t.Errorf("Models mismatch (-want +got):\n%s", diff)
			}
			if got := srv.metricsHits.Load(); got != 1 {
				t.Errorf("metrics hits = %d, want 1", got)
			}
		})
	}
}

func TestScrapeOnceFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		setup       func(f *fakeServer)
		wantMetrics bool // Whether the metrics half succeeds.
	}{
		{name: "metrics status 503", setup: func(f *fakeServer) { f.status.Store(http.StatusServiceUnavailable) }},
		{name: "missing families", setup: func(f *fakeServer) { s := "up 1\n"; f.exposition.Store(&s) }},
		{name: "malformed exposition", setup: func(f *fakeServer) { s := "vllm:num_requests_waiting{ 1\n"; f.exposition.Store(&s) }},
		{name: "body over the limit", setup: func(f *fakeServer) {
			s := vllmCore + strings.Repeat("\n", MaxBodyBytes)
			f.exposition.Store(&s)
		}},
		{name: "connection closed without a response", setup: func(f *fakeServer) { f.drop.Store(true) }},
		{name: "model list without data", wantMetrics: true, setup: func(f *fakeServer) { s := `{"object":"list"}`; f.models.Store(&s) }},
		{name: "model list not JSON", wantMetrics: true, setup: func(f *fakeServer) { s := `<html>`; f.models.Store(&s) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
			tc.setup(srv)
			ep := pool.NewEndpoint(srv.spec("ep"))
			reg := prometheus.NewRegistry()
			// A generous timeout: these failures must not be timeouts,
			// which do not count as consecutive failures.
			s := NewScraper(Options{Interval: 30 * time.Second, Timeout: 20 * time.Second, Registerer: reg})

			for i := 1; i <= 2; i++ {
				if err := s.ScrapeOnce(t.Context(), ep); err == nil {
					t.Fatal("ScrapeOnce succeeded, want error")
				}
				wantFailures := int64(i)
				if tc.wantMetrics {
					wantFailures = 0
				}
				if got := ep.ScrapeFailures(); got != wantFailures {
					t.Errorf("after scrape %d: ScrapeFailures = %d, want %d", i, got, wantFailures)
				}
			}
			if got := ep.Metrics() != nil; got != tc.wantMetrics {
				t.Errorf("metrics published = %t, want %t", got, tc.wantMetrics)
			}
			source := sourceMetrics
			if tc.wantMetrics {
				source = sourceModels
			}
			if got := testutil.ToFloat64(s.self.errors.WithLabelValues("ep", source)); got != 2 {
				t.Errorf("errors_total{source=%q} = %v, want 2", source, got)
			}
		})
	}
}

func TestScrapeOnceRecovers(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	srv.status.Store(http.StatusInternalServerError)
	ep := pool.NewEndpoint(srv.spec("ep"))
	s := NewScraper(Options{Interval: time.Second})
	for range 3 {
		_ = s.ScrapeOnce(t.Context(), ep)
	}
	if got := ep.ScrapeFailures(); got != 3 {
		t.Fatalf("ScrapeFailures = %d, want 3", got)
	}
	srv.status.Store(0)
	if err := s.ScrapeOnce(t.Context(), ep); err != nil {
		t.Fatalf("ScrapeOnce: %v", err)
	}
	if got := ep.ScrapeFailures(); got != 0 {
		t.Errorf("ScrapeFailures after success = %d, want 0", got)
	}
}

func TestScrapeOnceTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	ep := pool.NewEndpoint(pool.Spec{Name: "slow", Address: strings.TrimPrefix(srv.URL, "http://")})
	s := NewScraper(Options{Interval: 100 * time.Millisecond, Timeout: 20 * time.Millisecond})

	err := s.ScrapeOnce(t.Context(), ep)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ScrapeOnce error = %v, want %v", err, context.DeadlineExceeded)
	}
	// A timeout is a slow server, not a dead one: the staleness filter,
	// not the consecutive-failure filter, sets it aside.
	if got := ep.ScrapeFailures(); got != 0 {
		t.Errorf("ScrapeFailures after a timeout = %d, want 0", got)
	}
}

func TestScrapeOnceCancelledIsNoFailure(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	ep := pool.NewEndpoint(srv.spec("ep"))
	s := NewScraper(Options{Interval: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.ScrapeOnce(ctx, ep); !errors.Is(err, context.Canceled) {
		t.Errorf("ScrapeOnce error = %v, want %v", err, context.Canceled)
	}
	if got := ep.ScrapeFailures(); got != 0 {
		t.Errorf("ScrapeFailures = %d, want 0", got)
	}
}

func TestNewScraperDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                             string
		opts                             Options
		wantInterval, wantTimeout, wantM time.Duration
	}{
		{name: "zero", wantInterval: 50 * time.Millisecond, wantTimeout: 40 * time.Millisecond, wantM: 5 * time.Second},
		{
			name:         "timeout not below interval",
			opts:         Options{Interval: time.Second, Timeout: time.Second, ModelsInterval: time.Minute},
			wantInterval: time.Second, wantTimeout: 800 * time.Millisecond, wantM: time.Minute,
		},
		{
			name:         "explicit",
			opts:         Options{Interval: time.Second, Timeout: 300 * time.Millisecond},
			wantInterval: time.Second, wantTimeout: 300 * time.Millisecond, wantM: 5 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewScraper(tc.opts)
			if s.interval != tc.wantInterval || s.timeout != tc.wantTimeout || s.modelsInterval != tc.wantM {
				t.Errorf("interval, timeout, models interval = %v, %v, %v; want %v, %v, %v",
					s.interval, s.timeout, s.modelsInterval, tc.wantInterval, tc.wantTimeout, tc.wantM)
			}
		})
	}
}

func TestRunPublishesMetricsAndModels(t *testing.T) {
	t.Parallel()
	srvA := newFakeServer(t, pool.EngineVLLM, readTestdata(t, "vllm_v1.txt"))
	srvB := newFakeServer(t, pool.EngineTRTLLM, readTestdata(t, "trtllm.txt"))
	store := pool.NewStore("pool")
	snap := store.Sync([]pool.Spec{srvA.spec("a"), srvB.spec("b")})
	reg := prometheus.NewRegistry()
	s := NewScraper(Options{Interval: 20 * time.Millisecond, ModelsInterval: time.Hour, Registerer: reg})
	stop := startRun(t, s, store)

	for _, ep := range snap.Endpoints() {
		eventually(t, ep.Name()+" metrics and models", func() bool {
			return ep.Metrics() != nil && len(ep.Models()) == 2
		})
	}
	// Scraping goes on every interval, the model list only once an hour, so
	// it is fetched far less often than the metrics. A 20ms interval leaves
	// 16ms per request, which a loaded machine can miss, and a failure
	// brings the list forward, so the exact count depends on the machine;
	// TestLoopModelsSchedule checks the exact schedule with the failures
	// under its control.
	eventually(t, "repeated scrapes", func() bool { return srvA.metricsHits.Load() >= 10 && srvB.metricsHits.Load() >= 10 })
	stop()
	for _, srv := range []struct {
		name string
		f    *fakeServer
	}{{"a", srvA}, {"b", srvB}} {
		if got, scrapes := srv.f.modelsHits.Load(), srv.f.metricsHits.Load(); got < 1 || got > scrapes/2 {
			t.Errorf("model list of %s fetched %d times over %d scrapes, want at least once and at most every other scrape",
				srv.name, got, scrapes)
		}
	}
	if got := snap.Lookup(srvB.addr()).Metrics().Running; got != 24 {
		t.Errorf("trtllm Running = %d, want 24", got)
	}
}

// TestLoopModelsSchedule drives one endpoint's loop by hand, with a timeout
// no loopback request misses: the model list is fetched with the first
// scrape, not again while ModelsInterval has not passed, and at once after
// a failing metrics scrape recovers (the failure is the server's 503, under
// the test's control).
func TestLoopModelsSchedule(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	ep := pool.NewEndpoint(srv.spec("a"))
	s := NewScraper(Options{Interval: time.Minute, ModelsInterval: time.Hour})
	l := &loop{s: s, ep: ep, logger: s.logger, metricsURL: s.metricsURL(ep), modelsURL: s.modelsURL(ep)}
	ctx := t.Context()

	for range 5 {
		l.scrape(ctx)
	}
	if m, h := srv.metricsHits.Load(), srv.modelsHits.Load(); m != 5 || h != 1 {
		t.Fatalf("after 5 healthy scrapes: %d metrics and %d model list fetches, want 5 and 1", m, h)
	}
	if ep.Metrics() == nil || len(ep.Models()) != 2 {
		t.Fatalf("metrics %v, models %v: not published", ep.Metrics(), ep.Models())
	}

	srv.status.Store(http.StatusServiceUnavailable)
	l.scrape(ctx)
	l.scrape(ctx)
	if h := srv.modelsHits.Load(); h != 1 {
		t.Fatalf("a failing metrics scrape fetched the model list (%d fetches, want 1)", h)
	}
	if got := ep.ScrapeFailures(); got != 2 {
		t.Fatalf("ScrapeFailures = %d after two 503s, want 2", got)
	}
	srv.status.Store(0)
	l.scrape(ctx)
	if h := srv.modelsHits.Load(); h != 2 {
		t.Fatalf("recovery fetched the model list %d times in all, want 2", h)
	}
	l.scrape(ctx)
	if h := srv.modelsHits.Load(); h != 2 {
		t.Fatalf("the scrape after recovery fetched the model list again (%d fetches, want 2)", h)
	}
}

func TestRunFollowsMembership(t *testing.T) {
	t.Parallel()
	srvA := newFakeServer(t, pool.EngineVLLM, vllmCore)
	srvB := newFakeServer(t, pool.EngineVLLM, vllmCore)
	srvC := newFakeServer(t, pool.EngineSGLang, readTestdata(t, "sglang.txt"))
	storeAB := pool.NewStore("ab")
	storeC := pool.NewStore("c")
	storeAB.Sync([]pool.Spec{srvA.spec("a")})
	reg := prometheus.NewRegistry()
	s := NewScraper(Options{Interval: 20 * time.Millisecond, Registerer: reg})
	stop := startRun(t, s, storeAB, storeC)

	loops := func(n float64) func() bool {
		return func() bool { return testutil.ToFloat64(s.self.loops) == n }
	}
	eventually(t, "a scraped", func() bool { return srvA.metricsHits.Load() >= 2 })

	// Adding endpoints to either store starts their loops.
	storeAB.Sync([]pool.Spec{srvA.spec("a"), srvB.spec("b")})
	storeC.Sync([]pool.Spec{srvC.spec("c")})
	eventually(t, "b and c scraped", func() bool { return srvB.metricsHits.Load() >= 2 && srvC.metricsHits.Load() >= 2 })
	eventually(t, "three loops", loops(3))

	// Removing a from its store stops its loop: a gets no more scrapes while b does.
	storeAB.Sync([]pool.Spec{srvB.spec("b")})
	eventually(t, "two loops", loops(2))
	bHits := srvB.metricsHits.Load()
	eventually(t, "b scraped after a left", func() bool { return srvB.metricsHits.Load() >= bHits+3 })
	aHits := srvA.metricsHits.Load()
	bHits = srvB.metricsHits.Load()
	eventually(t, "b scraped again", func() bool { return srvB.metricsHits.Load() >= bHits+3 })
	if got := srvA.metricsHits.Load(); got != aHits {
		t.Errorf("a scraped %d more times after it left the store", got-aHits)
	}
	if got := testutil.CollectAndCount(s.self.errors); got != 4 {
		t.Errorf("error series = %d, want 4 (b and c, two sources each)", got)
	}

	// Cancelling Run stops every loop before Run returns.
	stop()
	if got := testutil.ToFloat64(s.self.loops); got != 0 {
		t.Errorf("loops after Run returned = %v, want 0", got)
	}
	// A second scraper shows that time passes (several intervals) without b
	// or c being scraped. Hits are compared from the probe's second scrape on,
	// so that a request cancelled by stop but still reaching a server does not count.
	probe := newFakeServer(t, pool.EngineVLLM, vllmCore)
	probeStore := pool.NewStore("probe")
	probeStore.Sync([]pool.Spec{probe.spec("probe")})
	startRun(t, NewScraper(Options{Interval: 20 * time.Millisecond}), probeStore)
	eventually(t, "probe scraped", func() bool { return probe.metricsHits.Load() >= 2 })
	bHits, cHits := srvB.metricsHits.Load(), srvC.metricsHits.Load()
	eventually(t, "probe scraped again", func() bool { return probe.metricsHits.Load() >= 7 })
	if b, c := srvB.metricsHits.Load(), srvC.metricsHits.Load(); b != bHits || c != cHits {
		t.Errorf("scrapes after Run returned: b %d, c %d; want none", b-bHits, c-cHits)
	}
}

func TestRunScrapesSharedEndpointOnce(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	store := pool.NewStore("pool")
	store.Sync([]pool.Spec{srv.spec("a")})
	reg := prometheus.NewRegistry()
	s := NewScraper(Options{Interval: 20 * time.Millisecond, Registerer: reg})
	// The same store twice: the endpoint is the same *pool.Endpoint.
	startRun(t, s, store, store)
	eventually(t, "scraped", func() bool { return srv.metricsHits.Load() >= 3 })
	if got := testutil.ToFloat64(s.self.loops); got != 1 {
		t.Errorf("loops = %v, want 1", got)
	}
}

func TestRunRejectsNilStores(t *testing.T) {
	t.Parallel()
	s := NewScraper(Options{})
	if err := s.Run(t.Context(), nil); err == nil {
		t.Error("Run with nil Stores succeeded")
	}
}

func TestRunFollowsPoolsJoiningAndLeaving(t *testing.T) {
	t.Parallel()
	srvA := newFakeServer(t, pool.EngineVLLM, readTestdata(t, "vllm_v1.txt"))
	srvB := newFakeServer(t, pool.EngineVLLM, readTestdata(t, "vllm_v1.txt"))
	a, b := pool.NewStore("a"), pool.NewStore("b")
	a.Sync([]pool.Spec{srvA.spec("a")})
	b.Sync([]pool.Spec{srvB.spec("b")})
	set := pool.NewSet(a)
	reg := prometheus.NewRegistry()
	s := NewScraper(Options{Interval: 10 * time.Millisecond, Registerer: reg})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, set) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}()

	eventually(t, "pool a scraped", func() bool { return a.Load().Endpoints()[0].Metrics() != nil })
	if got := srvB.metricsHits.Load(); got != 0 {
		t.Fatalf("pool b scraped %d times before it joined", got)
	}
	set.Replace([]*pool.Store{a, b})
	eventually(t, "pool b scraped after joining", func() bool { return b.Load().Endpoints()[0].Metrics() != nil })
	eventually(t, "two loops", func() bool { return testutil.ToFloat64(s.self.loops) == 2 })
	set.Replace([]*pool.Store{b})
	eventually(t, "pool a's loop stopped after it left", func() bool { return testutil.ToFloat64(s.self.loops) == 1 })
}

func TestRunLogsStateChangesOnly(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	srv.status.Store(http.StatusServiceUnavailable)
	store := pool.NewStore("pool")
	ep := store.Sync([]pool.Spec{srv.spec("a")}).Endpoints()[0]
	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := NewScraper(Options{Interval: 20 * time.Millisecond, ModelsInterval: time.Hour, Logger: logger})
	startRun(t, s, store)

	eventually(t, "five failures", func() bool { return ep.ScrapeFailures() >= 5 })
	if got := logs.Count("model server scrape failing"); got != 1 {
		t.Errorf("failing logged %d times over %d failures, want once", got, ep.ScrapeFailures())
	}
	srv.status.Store(0)
	eventually(t, "recovery", func() bool { return ep.Metrics() != nil })
	eventually(t, "recovery log", func() bool { return logs.Count("model server scrape recovered") >= 1 })
	// Recovery refetches the model list although ModelsInterval is an hour.
	eventually(t, "model list refetched", func() bool { return srv.modelsHits.Load() >= 2 })
}

// panicTransport panics on every request.
type panicTransport struct{ calls atomic.Int64 }

func (p *panicTransport) RoundTrip(*http.Request) (*http.Response, error) {
	p.calls.Add(1)
	panic("transport exploded")
}

func TestRunRecoversPanics(t *testing.T) {
	t.Parallel()
	store := pool.NewStore("pool")
	ep := store.Sync([]pool.Spec{{Name: "a", Address: "127.0.0.1:1"}}).Endpoints()[0]
	var logs testlog.Buffer
	tr := &panicTransport{}
	s := NewScraper(Options{
		Interval: 20 * time.Millisecond,
		Client:   &http.Client{Transport: tr},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	startRun(t, s, store)
	eventually(t, "loop survives panics", func() bool { return tr.calls.Load() >= 3 && ep.ScrapeFailures() >= 3 })
	if logs.Count("transport exploded") == 0 {
		t.Error("panic not logged")
	}
}

func TestSelfMetricsLint(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, pool.EngineVLLM, vllmCore)
	reg := prometheus.NewRegistry()
	s := NewScraper(Options{Interval: time.Second, Registerer: reg})
	// A second scraper on the same registry shares the collectors.
	s2 := NewScraper(Options{Interval: time.Second, Registerer: reg})
	if s.self.errors != s2.self.errors {
		t.Error("second scraper on one registry got its own error counter")
	}
	ep := pool.NewEndpoint(srv.spec("a"))
	if err := s.ScrapeOnce(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "infergate_") {
			t.Errorf("metric %s lacks the infergate_ prefix", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "namespace", "pod", "job", "instance", "cluster":
					t.Errorf("metric %s has reserved label %s", mf.GetName(), l.GetName())
				}
			}
		}
	}
	if got := testutil.CollectAndCount(reg, "infergate_model_server_scrape_duration_seconds"); got != 1 {
		t.Errorf("duration series = %d, want 1", got)
	}
}
