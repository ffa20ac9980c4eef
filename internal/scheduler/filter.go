package scheduler

import (
	"slices"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// The filters narrow the snapshot to the candidates worth scoring. They run
// in order, each in place over the cycle's parallel slices, in O(n) (the
// exclusion filter in O(n·len(Exclude))), without allocating:
//
//  1. loadCandidates drops endpoints the request already tried. This is
//     hard: an excluded endpoint is never picked, even if nothing is left.
//  2. filterEjected drops endpoints passive outlier detection ejected
//     (pool.Endpoint.Ejected: ejected, or half-open with its one probe
//     already in flight), unless that would drop every candidate.
//  3. filterScrapeFailures drops endpoints whose last MaxScrapeFailures
//     scrapes failed in a row, unless that would drop every candidate.
//  4. filterStale drops endpoints without fresh metrics when at least one
//     candidate has fresh metrics; when none has, it keeps them all (fail
//     open) and marks the cycle stale so load scorers fall back to the
//     gateway's own counters.

// loadCandidates fills c with the endpoints of eps not in exclude, and
// their current metrics.
func (c *cycle) loadCandidates(eps, exclude []*pool.Endpoint) {
	for _, ep := range eps {
		if ep == nil || slices.Contains(exclude, ep) {
			continue
		}
		c.cands = append(c.cands, ep)
		c.metrics = append(c.metrics, ep.Metrics())
	}
}

// filterEjected drops candidates outlier detection keeps out at now,
// unless all of them are.
func (c *cycle) filterEjected(now time.Time) {
	kept := 0
	for _, ep := range c.cands {
		if !ep.Ejected(now) {
			kept++
		}
	}
	if kept == 0 || kept == len(c.cands) {
		return
	}
	j := 0
	for i, ep := range c.cands {
		if !ep.Ejected(now) {
			c.cands[j], c.metrics[j] = ep, c.metrics[i]
			j++
		}
	}
	c.truncate(j)
}

// filterScrapeFailures drops candidates with at least maxFailures
// consecutive failed scrapes, unless all of them have.
func (c *cycle) filterScrapeFailures(maxFailures int64) {
	healthy := 0
	for _, ep := range c.cands {
		if ep.ScrapeFailures() < maxFailures {
			healthy++
		}
	}
	if healthy == 0 || healthy == len(c.cands) {
		return
	}
	j := 0
	for i, ep := range c.cands {
		if ep.ScrapeFailures() < maxFailures {
			c.cands[j], c.metrics[j] = ep, c.metrics[i]
			j++
		}
	}
	c.truncate(j)
}

// filterStale keeps only candidates with fresh metrics if there are any,
// and records in c.fresh whether the survivors are fresh.
func (c *cycle) filterStale(now time.Time, staleness time.Duration) {
	nFresh := 0
	for _, m := range c.metrics {
		if isFresh(m, now, staleness) {
			nFresh++
		}
	}
	c.fresh = nFresh > 0
	if nFresh == 0 || nFresh == len(c.cands) {
		return
	}
	j := 0
	for i, m := range c.metrics {
		if isFresh(m, now, staleness) {
			c.cands[j], c.metrics[j] = c.cands[i], m
			j++
		}
	}
	c.truncate(j)
}

// truncate shortens the candidate slices to n, clearing the dropped tail so
// the pooled cycle does not pin endpoints.
func (c *cycle) truncate(n int) {
	clear(c.cands[n:])
	clear(c.metrics[n:])
	c.cands, c.metrics = c.cands[:n], c.metrics[:n]
}

// isFresh reports whether m exists and was scraped within staleness of now.
func isFresh(m *pool.Metrics, now time.Time, staleness time.Duration) bool {
	return m != nil && now.Sub(m.ScrapedAt) <= staleness
}
