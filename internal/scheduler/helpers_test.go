package scheduler

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// testNow is the clock for every test; metrics are scraped at testNow unless
// a test says otherwise.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// epState describes a fake endpoint for a test table.
type epState struct {
	metrics        *pool.Metrics // nil: never scraped
	inFlight       int64
	inFlightTokens int64
	scrapeFailures int
	ejected        bool // ejected by outlier detection until an hour after testNow
}

// fresh returns metrics scraped at testNow.
func fresh(m pool.Metrics) *pool.Metrics {
	m.ScrapedAt = testNow
	return &m
}

// stale returns metrics scraped long before testNow.
func stale(m pool.Metrics) *pool.Metrics {
	m.ScrapedAt = testNow.Add(-time.Hour)
	return &m
}

// newEndpoints builds endpoints ep0, ep1, … in the given states.
func newEndpoints(states ...epState) []*pool.Endpoint {
	eps := make([]*pool.Endpoint, len(states))
	for i, st := range states {
		spec := pool.Spec{Name: fmt.Sprintf("ep%d", i), Address: fmt.Sprintf("10.0.0.%d:8000", i)}
		ep := pool.NewEndpoint(spec)
		if st.ejected {
			ep = ejectedEndpoint(spec)
		}
		if st.metrics != nil {
			ep.SetMetrics(st.metrics)
		}
		for range st.scrapeFailures {
			ep.RecordScrapeFailure()
		}
		if st.inFlight > 0 || st.inFlightTokens > 0 {
			// Acquire in one step so in-flight tokens need not divide evenly.
			ep.Acquire(st.inFlightTokens)
			for range st.inFlight - 1 {
				ep.Acquire(0)
			}
		}
		eps[i] = ep
	}
	return eps
}

// ejectedEndpoint returns an endpoint of spec that outlier detection
// ejected at testNow for an hour.
func ejectedEndpoint(spec pool.Spec) *pool.Endpoint {
	st := pool.NewStore("ejecting")
	ep := st.Sync([]pool.Spec{spec}).Endpoints()[0]
	st.SetOutlierDetector(pool.NewOutlierDetector(pool.OutlierConfig{
		ConsecutiveFirstByteTimeouts: 1, BaseEjectionTime: time.Hour, MaxEjectionPercent: 100,
	}, func() time.Time { return testNow }, nil))
	st.Report(ep, pool.ResultFirstByteTimeout)
	return ep
}

// idle returns n endpoints with fresh, idle metrics.
func idle(n int) []*pool.Endpoint {
	states := make([]epState, n)
	for i := range states {
		states[i] = epState{metrics: fresh(pool.Metrics{})}
	}
	return newEndpoints(states...)
}

// names returns the endpoints' names.
func names(eps []*pool.Endpoint) []string {
	out := make([]string, len(eps))
	for i, ep := range eps {
		out[i] = ep.Name()
	}
	return out
}

// newTestCycle runs Pick's filtering and measuring steps and returns the
// cycle the scorers would see.
func newTestCycle(t *testing.T, cfg Config, req *Request, eps []*pool.Endpoint) *cycle {
	t.Helper()
	cfg = cfg.withDefaults()
	c := new(cycle)
	c.begin(&cfg, req, newAdapterMemory(), len(eps))
	c.loadCandidates(eps, req.Exclude)
	c.filterEjected(testNow)
	c.filterScrapeFailures(int64(cfg.MaxScrapeFailures))
	c.filterStale(testNow, cfg.Staleness)
	c.measure()
	return c
}

// fixedRand always returns the same value.
type fixedRand float64

func (r fixedRand) Float64() float64 { return float64(r) }

// seededRand is a deterministic, concurrency-safe Rand.
type seededRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newSeededRand(seed uint64) *seededRand {
	return &seededRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *seededRand) Float64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Float64()
}

// chatPrompt returns a realistic chat body of about size bytes: a shared
// system prompt (identified by group) followed by a user turn unique to id.
func chatPrompt(group, id, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"model":"llama","messages":[{"role":"system","content":"You are assistant #%d. `, group)
	for b.Len() < size*3/4 {
		fmt.Fprintf(&b, "Rule %d of group %d: answer precisely and cite sources. ", b.Len(), group)
	}
	fmt.Fprintf(&b, `"},{"role":"user","content":"Question %d: `, id)
	for b.Len() < size {
		fmt.Fprintf(&b, "detail %d-%d; ", id, b.Len())
	}
	b.WriteString(`"}]}`)
	return []byte(b.String())
}
