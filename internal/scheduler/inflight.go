package scheduler

// inFlightScorer prefers endpoints the gateway has sent the least
// outstanding work.
//
// Signal: the gateway's own in-flight counters per candidate (requests, and
// their estimated tokens), updated at dispatch and completion, so they have
// no scrape lag. They count only this gateway's traffic.
//
// Score: min-max normalised over the candidates, averaging the request and
// token signals: 1 − mean(norm(requests), norm(tokens)) with norm(x) =
// (x − min)/(max − min). A signal that is equal on every candidate (for
// example tokens when no estimates are given) is left out of the mean; when
// both are, every candidate scores 1. Range [0,1].
//
// This is a spreader, not an overload detector: being relative to the
// spread it separates otherwise-equal candidates (cold prompts, the first
// requests before any scrape, bursts between scrapes), and at its default
// weight it can never outweigh a prefix match by itself. Overload is the
// queue scorer's job.
//
// Stale data: none; the counters are always current.
//
// Complexity: O(n) in the number of candidates; no allocation.
type inFlightScorer struct{}

var _ scorer = inFlightScorer{}

func (inFlightScorer) score(c *cycle, out []float64) {
	rMin, rMax := minMax(c.inFlight)
	tMin, tMax := minMax(c.inFlightTokens)
	signals := 0.0
	if rMax > rMin {
		signals++
	}
	if tMax > tMin {
		signals++
	}
	if signals == 0 {
		for i := range out {
			out[i] = 1
		}
		return
	}
	for i := range out {
		load := 0.0
		if rMax > rMin {
			load += float64(c.inFlight[i]-rMin) / float64(rMax-rMin)
		}
		if tMax > tMin {
			load += float64(c.inFlightTokens[i]-tMin) / float64(tMax-tMin)
		}
		out[i] = 1 - load/signals
	}
}

// minMax returns the smallest and largest element of a non-empty s.
func minMax(s []int64) (lo, hi int64) {
	lo, hi = s[0], s[0]
	for _, v := range s[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}
