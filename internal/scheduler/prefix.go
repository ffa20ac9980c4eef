package scheduler

// prefixScorer prefers endpoints that likely hold the prompt's prefix in
// their KV cache, so the engine can skip prefilling it.
//
// Signal: the number of leading prompt blocks each candidate holds
// consecutively according to the prefix index (matched), and the number of
// blocks the prompt hashed into (total). The index learns from routing
// decisions ([Scheduler.Commit]), not from the engines, so the signal does
// not depend on scraped metrics and is the same whether they are fresh or
// stale.
//
// Score: matched/total, range [0,1]; 0 for every candidate when the prompt
// is shorter than one block.
//
// Complexity: O(1) per candidate here; the matching itself (done once per
// Pick by prefix.Index.Match) costs one read-locked map lookup per block up
// to the longest match, plus a scan of each matched block's holders.
type prefixScorer struct{}

var _ scorer = prefixScorer{}

func (prefixScorer) score(c *cycle, out []float64) {
	if c.totalBlocks == 0 {
		clear(out)
		return
	}
	t := float64(c.totalBlocks)
	for i, m := range c.match {
		out[i] = float64(m) / t
	}
}
