package scheduler

import (
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler/prefix"
)

// cycle is the working state of one Pick: the candidates left after
// filtering and, in slices indexed like them, everything the scorers read
// and write. Cycles are pooled, so a steady-state Pick allocates nothing.
type cycle struct {
	cfg      *Config
	req      *Request
	adapters *adapterMemory // the scheduler's, read by the LoRA scorer

	cands   []*pool.Endpoint
	metrics []*pool.Metrics // latest scrape per candidate; nil when none yet
	// fresh is true when every candidate's metrics are fresh, false when
	// none are (the stale filter leaves no mix). Load scorers ignore
	// metrics when it is false and fall back to gateway counts.
	fresh bool

	inFlight       []int64   // gateway requests outstanding per candidate
	inFlightTokens []int64   // their estimated tokens
	queue          []float64 // effective queue depth (see effectiveQueue)

	match       []int // prefix blocks each candidate likely holds
	totalBlocks int   // blocks the prompt hashed into

	scores [NumScorers][]float64
	total  []float64

	prefix prefix.Scratch

	timer pluginTimer // per-plugin durations, when the scheduler has an observer
}

// begin readies c for a cycle over at most n endpoints.
func (c *cycle) begin(cfg *Config, req *Request, adapters *adapterMemory, n int) {
	c.cfg, c.req, c.adapters = cfg, req, adapters
	c.cands = grow(c.cands, n)[:0]
	c.metrics = grow(c.metrics, n)[:0]
	c.fresh = false
	c.totalBlocks = 0
}

// end drops the references c holds so a pooled cycle pins nothing.
func (c *cycle) end() {
	c.cfg, c.req, c.adapters = nil, nil, nil
	clear(c.cands)
	clear(c.metrics)
	c.cands, c.metrics = c.cands[:0], c.metrics[:0]
}

// measure fills the per-candidate load and scratch slices once filtering
// is done. Gateway counters are read once here so every scorer sees the
// same values.
func (c *cycle) measure() {
	n := len(c.cands)
	c.inFlight = grow(c.inFlight, n)
	c.inFlightTokens = grow(c.inFlightTokens, n)
	c.queue = grow(c.queue, n)
	c.match = grow(c.match, n)
	c.total = grow(c.total, n)
	for i := range c.scores {
		c.scores[i] = grow(c.scores[i], n)
	}
	clear(c.match)
	clear(c.total)
	for i, ep := range c.cands {
		inFlight := max(ep.InFlight(), 0)
		c.inFlight[i] = inFlight
		c.inFlightTokens[i] = max(ep.InFlightTokens(), 0)
		if m := c.metrics[i]; c.fresh && m != nil {
			c.queue[i] = effectiveQueue(m.WaitingQueue, m.Running, inFlight)
		} else {
			c.queue[i] = float64(inFlight)
		}
	}
}

// blockTokens returns the prefix block size for this cycle: the first
// candidate's reported KV-cache block size, else the configured default.
// Engines in one pool normally share a block size; taking one value per
// cycle keeps a prompt's hashes comparable across all candidates.
func (c *cycle) blockTokens() int {
	for _, m := range c.metrics {
		if m != nil && m.BlockSize > 0 {
			return min(m.BlockSize, maxBlockTokens)
		}
	}
	return c.cfg.PrefixBlockTokens
}

// effectiveQueue estimates how many requests are queued at an endpoint:
// the scraped waiting queue plus the gateway's requests the scrape cannot
// have seen yet (outstanding beyond what the engine reported as running or
// waiting, i.e. dispatched after the scrape). This over-counts when the
// engine has room to admit those requests straight into its batch and
// under-counts when other clients share the engine; it is the conservative
// choice between scrapes, and it stops a burst from herding onto the
// endpoint that looked idle at the last scrape.
func effectiveQueue(waiting, running int, inFlight int64) float64 {
	waiting, running = max(waiting, 0), max(running, 0)
	unseen := max(inFlight-int64(waiting)-int64(running), 0)
	return float64(int64(waiting) + unseen)
}

// grow returns s resliced to length n, reallocating only when its capacity
// is too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
