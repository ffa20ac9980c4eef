package telemetry

import (
	"sync"
	"time"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/exchange"
)

// Label values that stand in for client-derived names.
const (
	// OverflowModelName replaces model names beyond [Options.ModelNameLimit]
	// and target names of model pairs beyond [Options.ModelPairLimit].
	OverflowModelName = "other"
	// UnknownModelName is the model_name of requests whose model resolved to
	// nothing the gateway serves (404s and requests rejected before
	// routing), so a client cannot mint label values with names it makes up.
	UnknownModelName = exchange.UnknownModelName
)

// Defaults of the label caps, used when the [Options] fields are not
// positive. The model cap follows upstream (llm-d router: 1000, overflow
// "other").
const (
	defaultModelNameLimit = 1000
	defaultModelPairLimit = 1000
	// maxLabelBytes is the longest model label value exported; longer (or
	// invalid UTF-8) values become [OverflowModelName]. The proxy rejects
	// longer names with 400 before they get here.
	maxLabelBytes = 256
	// unpinAfter is how long a pinned name must be missing from every
	// [Metrics.PinModels] call before it is unpinned and its series deleted.
	unpinAfter = 10 * time.Minute
)

// PinnedModel is a model name whose label values are exempt from the
// client-derived caps, with the targets its requests are normally sent to.
type PinnedModel struct {
	// Name is a model name clients send (a configured model or one a
	// replica lists); "" pins only the targets (a catch-all rewrite).
	Name string
	// Targets are the models the replica receives for Name; the pairs
	// (Name, target) and (Name, Name) are pinned too.
	Targets []string
}

// modelCap bounds the values of the model_name and target_model_name labels
// and of their combinations.
//
// Pinned names (configured models, rewrite targets, the models replicas
// list) always keep their own value and use no slot, and so do their
// natural pairs (a model with itself and with its configured targets).
// Other names take one of limit slots, first come first served, and keep it
// for the life of the process (so paired updates such as RunningAdd +1 then
// -1 stay on one series); once the slots are full, new names become
// [OverflowModelName]. Likewise any other (model, target) pair takes one of
// pairLimit slots; past them it becomes (model, "other") when the model is
// pinned and ("other", "other") when not. So the number of pairs is at most
// the pinned pairs plus pairLimit plus one per pinned name plus one. Safe for
// concurrent use; memory is bounded by the limits plus the pinned names.
type modelCap struct {
	limit, pairLimit int

	mu          sync.RWMutex
	seen        map[string]struct{}
	pairs       map[[2]string]struct{}
	pinned      map[string]time.Time    // name → last time a pin call listed it
	pinnedPairs map[[2]string]time.Time // natural pair → last time listed
}

// newModelCap returns a cap admitting limit names and pairLimit pairs.
func newModelCap(limit, pairLimit int) *modelCap {
	return &modelCap{
		limit:       limit,
		pairLimit:   pairLimit,
		seen:        make(map[string]struct{}),
		pairs:       make(map[[2]string]struct{}),
		pinned:      make(map[string]time.Time),
		pinnedPairs: make(map[[2]string]time.Time),
	}
}

// label returns the label value to use for name. The empty string (model not
// known yet, e.g. an unparseable request) and the placeholders pass through
// and use no slot.
func (c *modelCap) label(name string) string {
	switch name {
	case "", OverflowModelName, UnknownModelName:
		return name
	}
	if !labelSafe(name) {
		return OverflowModelName
	}
	c.mu.RLock()
	_, pinned := c.pinned[name]
	_, ok := c.seen[name]
	full := len(c.seen) >= c.limit
	c.mu.RUnlock()
	if pinned || ok {
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

// labelSafe reports whether name may be a label value at all.
func labelSafe(name string) bool {
	return len(name) <= maxLabelBytes && utf8.ValidString(name)
}

// pair returns the label values for a request's model and target model:
// each capped by [modelCap.label], then the combination capped.
func (c *modelCap) pair(model, target string) (string, string) {
	model, target = c.label(model), c.label(target)
	key := [2]string{model, target}
	c.mu.RLock()
	_, natural := c.pinnedPairs[key]
	_, ok := c.pairs[key]
	_, modelPinned := c.pinned[model]
	full := len(c.pairs) >= c.pairLimit
	c.mu.RUnlock()
	switch {
	case ok, natural, target == "", model == OverflowModelName && target == OverflowModelName:
		return model, target
	case !full:
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.pairs[key]; ok || len(c.pairs) < c.pairLimit {
			c.pairs[key] = struct{}{}
			return model, target
		}
	}
	if modelPinned {
		return model, OverflowModelName
	}
	return OverflowModelName, OverflowModelName
}

// pin marks models, their targets and their natural pairs as pinned at now
// and unpins every name and pair that no call has listed for [unpinAfter],
// returning the names so their series can be deleted. Unpinned names also
// leave the first-come slots and pairs, so a name that comes back later is
// treated like any new one.
func (c *modelCap) pin(models []PinnedModel, now time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range models {
		if m.Name != "" && labelSafe(m.Name) {
			c.pinned[m.Name] = now
			c.pinnedPairs[[2]string{m.Name, m.Name}] = now
		}
		for _, t := range m.Targets {
			if t == "" || !labelSafe(t) {
				continue
			}
			c.pinned[t] = now
			if m.Name != "" && labelSafe(m.Name) {
				c.pinnedPairs[[2]string{m.Name, t}] = now
			}
		}
	}
	for k, at := range c.pinnedPairs {
		if now.Sub(at) >= unpinAfter {
			delete(c.pinnedPairs, k)
		}
	}
	var gone []string
	for n, at := range c.pinned {
		if now.Sub(at) >= unpinAfter {
			delete(c.pinned, n)
			delete(c.seen, n)
			gone = append(gone, n)
		}
	}
	if len(gone) > 0 {
		for k := range c.pairs {
			for _, n := range gone {
				if k[0] == n || k[1] == n {
					delete(c.pairs, k)
					break
				}
			}
		}
	}
	return gone
}
