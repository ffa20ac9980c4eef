package scheduler

import "time"

// Plugin identifies one step of a [Scheduler.Pick] (a filter, a scorer or a
// picker), for per-plugin timing. The values are dense from 0 to
// [NumPlugins]-1, so observers can index arrays with them.
type Plugin uint8

// The plugins, in the order Pick runs them. The scorers are in the order of
// the Scorer* constants, so PluginQueueScorer+ScorerX is scorer X.
const (
	PluginExclusionFilter Plugin = iota
	PluginScrapeFailureFilter
	PluginStaleFilter
	PluginQueueScorer
	PluginKVCacheScorer
	PluginPrefixScorer
	PluginLoRAScorer
	PluginInFlightScorer
	PluginMaxScorePicker
	PluginRoundRobinPicker
	PluginRandomPicker
	PluginLeastRequestPicker
	// NumPlugins is the number of plugins.
	NumPlugins
)

// Extension points of the scheduling cycle, named as upstream's
// inference_extension_plugin_duration_seconds labels them.
const (
	ExtensionFilter = "Filter"
	ExtensionScorer = "Scorer"
	ExtensionPicker = "Picker"
)

// PluginInfo is what a plugin is called in metrics: the labels of
// inference_extension_plugin_duration_seconds.
type PluginInfo struct {
	// ExtensionPoint is one of ExtensionFilter, ExtensionScorer and
	// ExtensionPicker.
	ExtensionPoint string
	// Type is the plugin's kind, spelled like upstream's plugin types
	// (e.g. "queue-scorer", "max-score-picker") where upstream has one.
	Type string
	// Name is the plugin's short name; for scorers it is the
	// [ScorerNames] entry.
	Name string
}

// pluginInfos is indexed by Plugin.
var pluginInfos = [NumPlugins]PluginInfo{
	PluginExclusionFilter:     {ExtensionFilter, "exclusion-filter", "exclusion"},
	PluginScrapeFailureFilter: {ExtensionFilter, "scrape-failure-filter", "scrape-failures"},
	PluginStaleFilter:         {ExtensionFilter, "stale-metrics-filter", "stale-metrics"},
	PluginQueueScorer:         {ExtensionScorer, "queue-scorer", ScorerNames[ScorerQueue]},
	PluginKVCacheScorer:       {ExtensionScorer, "kv-cache-utilization-scorer", ScorerNames[ScorerKVCache]},
	PluginPrefixScorer:        {ExtensionScorer, "prefix-cache-scorer", ScorerNames[ScorerPrefix]},
	PluginLoRAScorer:          {ExtensionScorer, "lora-affinity-scorer", ScorerNames[ScorerLoRA]},
	PluginInFlightScorer:      {ExtensionScorer, "in-flight-scorer", ScorerNames[ScorerInFlight]},
	PluginMaxScorePicker:      {ExtensionPicker, "max-score-picker", "max-score"},
	PluginRoundRobinPicker:    {ExtensionPicker, "round-robin-picker", string(StrategyRoundRobin)},
	PluginRandomPicker:        {ExtensionPicker, "random-picker", string(StrategyRandom)},
	PluginLeastRequestPicker:  {ExtensionPicker, "least-request-picker", string(StrategyLeastRequest)},
}

// Info returns p's metric labels. p must be below [NumPlugins].
func (p Plugin) Info() PluginInfo { return pluginInfos[p] }

// Plugins lists, in the order Pick runs them, the plugins a [Scheduler]
// built with c runs: every filter, each scorer with a non-zero weight and
// the picker of c's strategy (under a baseline strategy, no scorer).
func (c Config) Plugins() []Plugin {
	c = c.withDefaults()
	out := []Plugin{PluginExclusionFilter, PluginScrapeFailureFilter, PluginStaleFilter}
	if newBaseline(c.Strategy) == nil {
		for i := range NumScorers {
			if c.Weights.weight(i) != 0 {
				out = append(out, scorerPlugin(i))
			}
		}
	}
	return append(out, pickerPlugin(c.Strategy))
}

// scorerPlugin returns the Plugin of scorer i (a Scorer* constant).
func scorerPlugin(i int) Plugin { return PluginQueueScorer + Plugin(i) }

// pickerPlugin returns the Plugin that chooses under strategy s.
func pickerPlugin(s Strategy) Plugin {
	switch s {
	case StrategyRoundRobin:
		return PluginRoundRobinPicker
	case StrategyRandom:
		return PluginRandomPicker
	case StrategyLeastRequest:
		return PluginLeastRequestPicker
	}
	return PluginMaxScorePicker
}

// PluginObserver receives how long each plugin took in one Pick. Pick calls
// ObservePlugin once per plugin that ran, after the pick is made (so the
// observer's own cost is not timed), on the request path: it must be fast,
// must not block or allocate, and must be safe for concurrent use.
//
// The prefix scorer's time includes hashing the prompt and matching it
// against the prefix index, the work that makes its score; reading the
// candidates' load counters once for all scorers is timed as no plugin.
type PluginObserver interface {
	ObservePlugin(p Plugin, d time.Duration)
}

// Option configures a [Scheduler] at [New].
type Option func(*Scheduler)

// WithPluginObserver makes every Pick report its per-plugin durations to o.
// Timing costs one monotonic clock read per plugin boundary; without an
// observer Pick reads no clock.
func WithPluginObserver(o PluginObserver) Option {
	return func(s *Scheduler) { s.observer = o }
}

// pluginTimer times the plugins of one cycle: each mark charges the time
// since the previous boundary to a plugin. The zero value (no observer)
// does nothing and reads no clock.
type pluginTimer struct {
	obs   PluginObserver
	start time.Time // carries a monotonic reading, so time.Since reads only that clock
	last  time.Duration
	ran   uint32 // bit p set when plugin p ran
	spent [NumPlugins]time.Duration
}

// begin starts timing a cycle for obs (nil disables timing).
func (t *pluginTimer) begin(obs PluginObserver) {
	t.obs = obs
	if obs == nil {
		return
	}
	t.start, t.last, t.ran = time.Now(), 0, 0
}

// mark charges the time since the previous boundary to p.
func (t *pluginTimer) mark(p Plugin) {
	if t.obs == nil {
		return
	}
	now := time.Since(t.start)
	t.spent[p] += now - t.last
	t.last = now
	t.ran |= 1 << p
}

// skip moves the boundary to now without charging any plugin.
func (t *pluginTimer) skip() {
	if t.obs == nil {
		return
	}
	t.last = time.Since(t.start)
}

// report hands the time of every plugin that ran to the observer and
// resets the timer.
func (t *pluginTimer) report() {
	if t.obs == nil {
		return
	}
	for p := range NumPlugins {
		if t.ran&(1<<p) != 0 {
			t.obs.ObservePlugin(p, t.spent[p])
			t.spent[p] = 0
		}
	}
	t.ran, t.obs = 0, nil
}
