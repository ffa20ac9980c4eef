package dashboard

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/infergate/infergate/internal/auth"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// State is the JSON document the page polls at /dashboard/api/state.
type State struct {
	// Time is when the state was taken.
	Time time.Time `json:"time"`
	// User is who is logged in ("" when auth is off).
	User string `json:"user"`
	// AuthRequired tells the page to offer a logout button.
	AuthRequired bool `json:"authRequired"`
	// StalenessSeconds is how old an endpoint's metrics may be for it to
	// count as ready.
	StalenessSeconds float64 `json:"stalenessSeconds"`
	// Scorers are the scheduler's scorer names, in the order of
	// [Decision.Scorers].
	Scorers []string `json:"scorers"`
	// Pools are the gateway's pools.
	Pools []PoolState `json:"pools"`
	// Series are the request, error and latency charts.
	Series Series `json:"series"`
	// Decisions are the recent routing decisions, newest first.
	Decisions []Decision `json:"decisions"`
}

// PoolState summarizes one pool as inference_pool_* does: averages are
// over the endpoints with fresh metrics.
type PoolState struct {
	Name string `json:"name"`
	// ReadyEndpoints have metrics fresher than the staleness bound.
	ReadyEndpoints int `json:"readyEndpoints"`
	// TotalEndpoints is the pool's size.
	TotalEndpoints int `json:"totalEndpoints"`
	// AverageKVCache is the mean KV-cache utilization, 0 to 1.
	AverageKVCache float64 `json:"averageKVCache"`
	// AverageQueue is the mean waiting queue; TotalQueue their sum.
	AverageQueue float64 `json:"averageQueue"`
	TotalQueue   int     `json:"totalQueue"`
	// InFlight is the gateway's outstanding requests to the pool.
	InFlight int64 `json:"inFlight"`
	// Endpoints are the pool's endpoints in discovery order.
	Endpoints []EndpointState `json:"endpoints"`
}

// EndpointState is one row of the endpoint table.
type EndpointState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Engine  string `json:"engine"`
	// Ready means the metrics are fresh.
	Ready bool `json:"ready"`
	// Scraped is false before the first successful scrape; the metric
	// fields are then zero.
	Scraped bool `json:"scraped"`
	// ScrapeAgeSeconds is the age of the latest metrics.
	ScrapeAgeSeconds float64 `json:"scrapeAgeSeconds"`
	// ScrapeFailures counts consecutive failed scrapes.
	ScrapeFailures int64 `json:"scrapeFailures"`
	Queue          int   `json:"queue"`
	Running        int   `json:"running"`
	// KVCache is the KV-cache utilization, 0 to 1.
	KVCache float64 `json:"kvCache"`
	// Adapters are the LoRA adapters loaded; WaitingAdapters those that
	// queued requests wait for; MaxAdapters the slots (0 = unknown).
	Adapters        []string `json:"adapters"`
	WaitingAdapters []string `json:"waitingAdapters"`
	MaxAdapters     int      `json:"maxAdapters"`
	// InFlight and InFlightTokens are the gateway's outstanding requests
	// to this endpoint and their estimated tokens.
	InFlight       int64 `json:"inFlight"`
	InFlightTokens int64 `json:"inFlightTokens"`
	// Ejected is true while passive outlier detection keeps the endpoint
	// out of service; EjectedForSeconds is what is left of the ejection
	// (0 once it is half-open, waiting for a successful probe).
	Ejected           bool    `json:"ejected"`
	EjectedForSeconds float64 `json:"ejectedForSeconds"`
}

// poolState reads one pool's current snapshot.
func poolState(st *pool.Store, now time.Time, staleness time.Duration) PoolState {
	ps := PoolState{Name: st.Name(), Endpoints: []EndpointState{}}
	var kv float64
	for _, ep := range st.Load().Endpoints() {
		es := EndpointState{
			Name:            ep.Name(),
			Address:         ep.Address(),
			Engine:          string(ep.Engine()),
			ScrapeFailures:  ep.ScrapeFailures(),
			InFlight:        ep.InFlight(),
			InFlightTokens:  ep.InFlightTokens(),
			Adapters:        []string{},
			WaitingAdapters: []string{},
		}
		if until, ok := ep.EjectedUntil(); ok {
			es.Ejected, es.EjectedForSeconds = true, max(0, until.Sub(now).Seconds())
		}
		ps.InFlight += es.InFlight
		if m := ep.Metrics(); m != nil {
			age := now.Sub(m.ScrapedAt)
			es.Scraped = true
			es.ScrapeAgeSeconds = max(0, age.Seconds())
			es.Ready = staleness <= 0 || age <= staleness
			es.Queue, es.Running, es.KVCache = m.WaitingQueue, m.Running, finite(m.KVCacheUsage)
			es.Adapters = append(es.Adapters, m.ActiveAdapters...)
			es.WaitingAdapters = append(es.WaitingAdapters, m.WaitingAdapters...)
			es.MaxAdapters = m.MaxAdapters
		}
		if es.Ready {
			ps.ReadyEndpoints++
			kv += es.KVCache
			ps.TotalQueue += es.Queue
		}
		ps.Endpoints = append(ps.Endpoints, es)
	}
	ps.TotalEndpoints = len(ps.Endpoints)
	if ps.ReadyEndpoints > 0 {
		ps.AverageKVCache = kv / float64(ps.ReadyEndpoints)
		ps.AverageQueue = float64(ps.TotalQueue) / float64(ps.ReadyEndpoints)
	}
	return ps
}

// finite returns x, or 0 when x is NaN or infinite (JSON has neither).
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// serveState answers GET /dashboard/api/state.
func (d *dashboard) serveState(w http.ResponseWriter, r *http.Request) {
	now := d.now()
	st := State{
		Time:             now,
		AuthRequired:     d.sessions != nil,
		StalenessSeconds: d.staleness.Seconds(),
		Scorers:          scheduler.ScorerNames[:],
		Pools:            []PoolState{},
		Decisions:        []Decision{},
		Series:           Series{Points: []Point{}},
	}
	if u, ok := auth.UserFrom(r.Context()); ok {
		st.User = u.Name
	}
	if d.pools != nil {
		for _, p := range d.pools.Stores() {
			st.Pools = append(st.Pools, poolState(p, now, d.staleness))
		}
	}
	if d.sampler != nil {
		st.Series = d.sampler.Series()
	}
	if d.decisions != nil {
		st.Decisions = d.decisions.Recent()
		if d.traceURL != "" {
			for i := range st.Decisions {
				if id := st.Decisions[i].TraceID; id != "" {
					st.Decisions[i].TraceURL = strings.ReplaceAll(d.traceURL, "{traceID}", id)
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(st); err != nil {
		d.log.Debug("writing dashboard state", "err", err)
	}
}
