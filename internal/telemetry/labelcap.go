package telemetry

import "sync"

// OverflowModelName is the label value that replaces model names beyond
// [Options.ModelNameLimit].
const OverflowModelName = "other"

// defaultModelNameLimit is used when [Options.ModelNameLimit] is not positive.
const defaultModelNameLimit = 100

// modelCap bounds the distinct values of the model_name and
// target_model_name labels. The first limit distinct non-empty names pass
// through unchanged; every later new name becomes [OverflowModelName]. The set
// only grows, so a name maps to the same value for the life of the process,
// which keeps paired updates (RunningAdd +1 then -1) on the same series.
// Safe for concurrent use; memory is bounded by limit.
type modelCap struct {
	limit int

	mu   sync.RWMutex
	seen map[string]struct{}
}

// newModelCap returns a cap admitting limit names.
func newModelCap(limit int) *modelCap {
	return &modelCap{limit: limit, seen: make(map[string]struct{}, limit)}
}

// label returns the label value to use for name. The empty string (model not
// known yet, e.g. an unparseable request) passes through and uses no slot.
func (c *modelCap) label(name string) string {
	if name == "" || name == OverflowModelName {
		return name
	}
	c.mu.RLock()
	_, ok := c.seen[name]
	full := len(c.seen) >= c.limit
	c.mu.RUnlock()
	if ok {
		return name
	}
	if full {
		return OverflowModelName
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[name]; ok {
		return name
	}
	if len(c.seen) >= c.limit {
		return OverflowModelName
	}
	c.seen[name] = struct{}{}
	return name
}
