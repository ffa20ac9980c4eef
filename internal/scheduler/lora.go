package scheduler

// loraScorer prefers endpoints that already serve the requested LoRA
// adapter, then endpoints with a free adapter slot.
//
// Signal: each candidate's scraped adapter state (vLLM lora_requests_info:
// running adapters, waiting adapters, max_lora).
//
// Signal, too: the scheduler's own memory of which adapters it sent to each
// endpoint lately (adaptermemory.go), which stands in for adapters that are
// loaded but idle and so missing from the metrics.
//
// Score, for an adapter request (upstream's ladder, with residency widened
// by the memory):
//
//	1.0  the adapter is active on the endpoint, or among the max_lora
//	     adapters most recently sent to it
//	0.8  the endpoint has a free adapter slot (active+waiting < max)
//	0.6  the adapter is waiting on the endpoint, with no free slot
//	0.0  no slot free and the adapter is not there
//
// Requests for a base model, and endpoints without LoRA information (no
// metrics or max_lora unknown), score 1 (neutral). A request counts as an
// adapter request when some candidate lists its model among its active or
// waiting adapters, or some replica did earlier (the memory learns adapter
// names); a request for an adapter no replica has shown yet is treated like
// a base-model request (the scheduler cannot tell them apart from the model
// name alone). The decision is kept in the Request, so that Commit records
// where adapter requests went.
//
// Stale data: adapter residency changes slowly, so stale metrics are used
// as they are (the stale filter only keeps stale candidates when no fresh
// ones exist).
//
// Complexity: O(n·a) for n candidates with up to a adapters each (plus the
// memory's read lock); no allocation.
type loraScorer struct{}

var _ scorer = loraScorer{}

func (loraScorer) score(c *cycle, out []float64) {
	model := c.req.Model
	adapter := c.adapters.isAdapter(model)
	for _, m := range c.metrics {
		if adapter {
			break
		}
		adapter = m != nil && (m.HasAdapter(model) || m.IsWaitingAdapter(model))
	}
	c.req.adapter = adapter
	for i, m := range c.metrics {
		switch {
		case !adapter, m == nil, m.MaxAdapters <= 0, m.HasAdapter(model),
			c.adapters.resident(c.cands[i], model, m.MaxAdapters):
			out[i] = 1
		case len(m.ActiveAdapters)+len(m.WaitingAdapters) < m.MaxAdapters:
			out[i] = 0.8
		case m.IsWaitingAdapter(model):
			out[i] = 0.6
		default:
			out[i] = 0
		}
	}
}
