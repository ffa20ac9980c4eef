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
	// comboBudget is the default combination budget shared by the name
	// sets: each enabled set gets comboBudget / sets combinations (2000 for
	// one set, 1000 for two as before llm-d's names, 666 for all three), so
	// the worst-case /metrics size stays the same whichever sets are on.
	comboBudget = 2000
	// defaultFairnessLimit caps the distinct fairness_id values (DESIGN:
	// 100, overflow "other").
	defaultFairnessLimit = 100
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

// modelCap bounds the values of the model_name, target_model_name and
// fairness_id labels and of their combinations with the priority.
//
// Pinned names (configured models, rewrite targets, the models replicas
// list) always keep their own value and use no name slot. Other names take
// one of limit slots, first come first served, and keep it for the life of
// the process (so paired updates such as RunningAdd +1 then -1 stay on one
// series); once the slots are full, new names become [OverflowModelName].
// Fairness IDs take one of fairLimit slots the same way.
//
// Every (model, target, fairness ID, priority) combination then takes one of
// comboLimit slots, whatever name set reports it: the GIE families show its
// (model, target) projection, the llm-d families all of it, so one budget
// bounds every set. Past the slots a combination is folded: its fairness ID
// becomes "other" when (model, target) is a pinned model's natural pair (a
// model with itself or a configured target), the target and fairness ID
// too when only the model is pinned, and all three otherwise. So the
// number of combinations is at most comboLimit plus, per priority value,
// the pinned pairs, the pinned names and one. Priorities come from
// InferenceObjectives, which the operator controls. Safe for concurrent
// use; memory is bounded by the limits plus the pinned names.
type modelCap struct {
	limit, comboLimit int
	fairness          *valueCap

	mu          sync.RWMutex
	seen        map[string]struct{}
	combos      map[comboKey]struct{}
	pinned      map[string]time.Time    // name → last time a pin call listed it
	pinnedPairs map[[2]string]time.Time // natural pair → last time listed
}

// comboKey is one combination of label values.
type comboKey struct {
	model, target, fairness string
	priority                int
}

// newModelCap returns a cap admitting limit names, fairLimit fairness IDs
// and comboLimit combinations.
func newModelCap(limit, comboLimit, fairLimit int) *modelCap {
	return &modelCap{
		limit:       limit,
		comboLimit:  comboLimit,
		fairness:    newValueCap(fairLimit),
		seen:        make(map[string]struct{}),
		combos:      make(map[comboKey]struct{}),
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

// key returns the label values for a request's model, target model and
// fairness ID at priority: each name capped, then the combination (see
// [modelCap]). An empty fairness ID is [exchange.DefaultFairnessID].
func (c *modelCap) key(model, target, fairness string, priority int) comboKey {
	if fairness == "" {
		fairness = exchange.DefaultFairnessID
	}
	k := comboKey{model: c.label(model), target: c.label(target), fairness: c.fairness.label(fairness), priority: priority}
	if k.model == OverflowModelName && k.target == OverflowModelName && k.fairness == OverflowModelName {
		return k
	}
	c.mu.RLock()
	_, ok := c.combos[k]
	_, natural := c.pinnedPairs[[2]string{k.model, k.target}]
	_, modelPinned := c.pinned[k.model]
	full := len(c.combos) >= c.comboLimit
	c.mu.RUnlock()
	if ok {
		return k
	}
	if !full {
		c.mu.Lock()
		_, ok := c.combos[k]
		if ok || len(c.combos) < c.comboLimit {
			c.combos[k] = struct{}{}
			c.mu.Unlock()
			return k
		}
		c.mu.Unlock()
	}
	k.fairness = OverflowModelName
	switch {
	case natural:
	case modelPinned:
		if k.target != "" {
			k.target = OverflowModelName
		}
	default:
		k.model, k.target = OverflowModelName, OverflowModelName
	}
	return k
}

// valueCap bounds the distinct values of one client-derived label: the
// first limit values keep their own value, later new ones become
// [OverflowModelName]. Safe for concurrent use.
type valueCap struct {
	limit int
	mu    sync.RWMutex
	seen  map[string]struct{}
}

// newValueCap returns a cap admitting limit values.
func newValueCap(limit int) *valueCap {
	return &valueCap{limit: limit, seen: make(map[string]struct{})}
}

// label returns v or, past the cap or when v is no safe label value,
// [OverflowModelName].
func (c *valueCap) label(v string) string {
	if v == OverflowModelName {
		return v
	}
	if !labelSafe(v) {
		return OverflowModelName
	}
	c.mu.RLock()
	_, ok := c.seen[v]
	full := len(c.seen) >= c.limit
	c.mu.RUnlock()
	if ok {
		return v
	}
	if full {
		return OverflowModelName
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok || len(c.seen) < c.limit {
		c.seen[v] = struct{}{}
		return v
	}
	return OverflowModelName
}

// pin marks models, their targets and their natural pairs as pinned at now
// and unpins every name and pair that no call has listed for [unpinAfter],
// returning the names so their series can be deleted. Unpinned names also
// leave the first-come slots and combinations, so a name that comes back later is
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
		for k := range c.combos {
			for _, n := range gone {
				if k.model == n || k.target == n {
					delete(c.combos, k)
					break
				}
			}
		}
	}
	return gone
}
