package modelmetrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/pool"
)

// Defaults for [Options].
const (
	DefaultInterval       = 50 * time.Millisecond
	DefaultModelsInterval = 5 * time.Second
)

// acceptHeader asks for the classic text format, the only one Parse reads.
const acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Options configures a [Scraper]. The zero value is usable: every zero field
// takes the documented default.
type Options struct {
	// Interval is the time between two scrapes of one endpoint's metrics,
	// and between two checks of the stores' membership. Each endpoint's loop
	// starts after a random offset within one interval, so that scrapes of
	// many endpoints spread out. Default 50ms.
	Interval time.Duration
	// Timeout bounds one HTTP request (metrics or models). It must be
	// shorter than Interval; zero, negative or too long values become
	// 0.8×Interval.
	Timeout time.Duration
	// ModelsInterval is the time between two GET /v1/models of one
	// endpoint. The first fetch happens with the loop's first scrape; after
	// a failed fetch the next one comes after min(10×Interval,
	// ModelsInterval), and when a failing metrics scrape recovers the list
	// is fetched again at once (the server may have restarted with other
	// models). Default 5s.
	ModelsInterval time.Duration
	// Client sends the requests. Nil means a dedicated client whose
	// transport keeps connections to every endpoint alive, uses no proxy
	// and asks for no compression; its idle connections are closed when
	// Run returns.
	Client *http.Client
	// TLS, when set, makes the scraper use HTTPS with this configuration
	// (the default client's transport uses it; an injected Client must
	// trust the servers itself). Nil means plain HTTP.
	TLS *tls.Config
	// Logger receives scrape state changes (failing, recovered) and
	// recovered panics. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the scraper's own metrics (see the package
	// documentation). Nil means no self-metrics.
	Registerer prometheus.Registerer
}

// Scraper polls model servers' metrics and model lists and publishes them on
// their [pool.Endpoint]s. Its methods are safe for concurrent use; several
// Run calls may run at once, for example one per group of stores.
type Scraper struct {
	interval       time.Duration
	timeout        time.Duration
	modelsInterval time.Duration
	client         *http.Client
	ownClient      bool
	scheme         string // "http" or "https"
	logger         *slog.Logger
	self           *selfMetrics

	// parsers holds parse buffers, shared by all loops: a loop holds one
	// only while it parses, so idle endpoints keep no 60 KiB body alive.
	parsers sync.Pool
}

// NewScraper returns a scraper configured by opts, with defaults applied.
func NewScraper(opts Options) *Scraper {
	s := &Scraper{
		interval:       opts.Interval,
		timeout:        opts.Timeout,
		modelsInterval: opts.ModelsInterval,
		client:         opts.Client,
		logger:         opts.Logger,
		scheme:         "http",
	}
	if opts.TLS != nil {
		s.scheme = "https"
	}
	if s.interval <= 0 {
		s.interval = DefaultInterval
	}
	if s.timeout <= 0 || s.timeout >= s.interval {
		s.timeout = s.interval * 8 / 10
	}
	if s.modelsInterval <= 0 {
		s.modelsInterval = DefaultModelsInterval
	}
	if s.client == nil {
		s.client, s.ownClient = newClient(opts.TLS), true
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.self = newSelfMetrics(opts.Registerer, s.logger)
	s.parsers.New = func() any { return newParser() }
	return s
}

// newClient returns the default scrape client. Keep-alive matters: a new TCP
// connection every 50 ms per endpoint would cost more than the scrape (let
// alone a TLS handshake). tlsCfg nil means plain HTTP.
func newClient(tlsCfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        0, // No global cap: one pool may have hundreds of endpoints.
		MaxIdleConnsPerHost: 2, // Metrics and models requests may overlap.
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSClientConfig:     tlsCfg,
	}}
}

// Stores lists the pools to scrape. The list may change between calls (pools
// join and leave in Kubernetes mode); [*pool.Set] implements it.
type Stores interface {
	Stores() []*pool.Store
}

// Run scrapes every endpoint of every store until ctx is done. It starts one
// loop per endpoint, and every Interval it checks the stores and their
// snapshots, starting loops for new endpoints and stopping the loops of
// endpoints that left. An endpoint present in several stores is scraped once.
// Run returns nil once ctx is done and all its loops have stopped.
func (s *Scraper) Run(ctx context.Context, stores Stores) error {
	if stores == nil {
		return errors.New("run scraper: nil Stores")
	}
	if s.ownClient {
		defer s.client.CloseIdleConnections()
	}
	m := &membership{s: s, seen: make(map[*pool.Store]*pool.Snapshot), loops: make(map[*pool.Endpoint]*loop)}
	defer m.stopAll()

	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		m.sync(ctx, stores.Stores())
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// membership tracks the running loops of one Run call.
type membership struct {
	s     *Scraper
	seen  map[*pool.Store]*pool.Snapshot
	loops map[*pool.Endpoint]*loop
}

// sync starts and stops loops to match the stores' current snapshots. It
// does nothing when neither the stores nor any snapshot changed since the
// last call.
func (m *membership) sync(ctx context.Context, stores []*pool.Store) {
	changed := len(stores) != len(m.seen)
	for _, st := range stores {
		if snap := st.Load(); snap != m.seen[st] {
			changed = true
		}
	}
	if !changed {
		return
	}
	clear(m.seen)
	want := make(map[*pool.Endpoint]struct{}, len(m.loops))
	for _, st := range stores {
		snap := st.Load()
		m.seen[st] = snap
		for _, ep := range snap.Endpoints() {
			want[ep] = struct{}{}
			if m.loops[ep] == nil {
				m.loops[ep] = m.s.startLoop(ctx, ep)
				m.s.logger.Debug("model server scrape loop started", slog.String("endpoint", endpointName(ep)), slog.String("address", ep.Address()))
			}
		}
	}
	for ep, l := range m.loops {
		if _, ok := want[ep]; !ok {
			l.stop()
			delete(m.loops, ep)
			m.s.logger.Debug("model server scrape loop stopped", slog.String("endpoint", endpointName(ep)), slog.String("address", ep.Address()))
		}
	}
}

// stopAll stops every loop and waits for them.
func (m *membership) stopAll() {
	for _, l := range m.loops {
		l.cancel()
	}
	for ep, l := range m.loops {
		l.stop()
		delete(m.loops, ep)
	}
}

// ScrapeOnce scrapes ep now: it fetches its metrics, publishing them with
// [pool.Endpoint.SetMetrics] or counting a failure with
// [pool.Endpoint.RecordScrapeFailure], then fetches its model list and
// publishes it with [pool.Endpoint.SetModels]. Each request is bounded by the
// configured Timeout. The returned error joins both failures, if any.
func (s *Scraper) ScrapeOnce(ctx context.Context, ep *pool.Endpoint) error {
	p := s.parsers.Get().(*parser)
	errMetrics := s.scrapeMetrics(ctx, ep, s.metricsURL(ep), p)
	s.parsers.Put(p) // Not deferred: a parser that panicked is dropped.
	errModels := s.scrapeModels(ctx, ep, s.modelsURL(ep))
	return errors.Join(errMetrics, errModels)
}

// scrapeMetrics fetches and parses ep's exposition at url, publishing the
// result or recording the failure on ep.
//
// A scrape that only timed out is counted as an error but not as one of the
// endpoint's consecutive failures: a slow answer means a busy server or a
// stalled host, not a dead replica, and the scheduler's staleness filter
// already sets aside an endpoint that stays silent. Refused connections,
// error statuses and bad expositions do count, so the scheduler drops a dead
// replica after a few scrape intervals instead of after the staleness
// window.
func (s *Scraper) scrapeMetrics(ctx context.Context, ep *pool.Endpoint, url string, p *parser) error {
	start := time.Now()
	m, err := s.fetchMetrics(ctx, ep, url, p)
	s.self.observeScrape(time.Since(start))
	if err != nil {
		if ctx.Err() == nil { // A cancelled caller is no failure of the endpoint.
			s.self.countError(ep, sourceMetrics)
			if !isTimeout(err) {
				ep.RecordScrapeFailure()
			}
		}
		return err
	}
	ep.SetMetrics(m)
	return nil
}

func (s *Scraper) fetchMetrics(ctx context.Context, ep *pool.Endpoint, url string, p *parser) (*pool.Metrics, error) {
	spec := specFor(ep.Engine())
	if spec == nil {
		return nil, fmt.Errorf("scrape %s: unknown engine %q", endpointName(ep), ep.Engine())
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	body, err := s.get(ctx, url, acceptHeader)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", endpointName(ep), err)
	}
	defer closeBody(body)
	if err := p.readBody(body); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", endpointName(ep), err)
	}
	m, err := p.metrics(spec, time.Now())
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", endpointName(ep), err)
	}
	return m, nil
}

// get sends a GET to url and returns the body of a 200 response. The caller
// must close it with closeBody.
func (s *Scraper) get(ctx context.Context, url, accept string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		closeBody(resp.Body)
		return nil, fmt.Errorf("GET %s: unexpected status %s", url, resp.Status)
	}
	return resp.Body, nil
}

// isTimeout reports whether err is a scrape timing out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// closeBody drains a little of body, so that the connection can be reused,
// and closes it.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	_ = body.Close()
}

// metricsURL is ep's metrics URL.
func (s *Scraper) metricsURL(ep *pool.Endpoint) string {
	return s.scheme + "://" + ep.Address() + MetricsPath(ep.Engine())
}

// modelsURL is ep's model list URL.
func (s *Scraper) modelsURL(ep *pool.Endpoint) string {
	return s.scheme + "://" + ep.Address() + "/v1/models"
}

// endpointName names ep in errors, logs and metric labels: its name, or its
// address when it has none.
func endpointName(ep *pool.Endpoint) string {
	if n := ep.Name(); n != "" {
		return n
	}
	return ep.Address()
}
