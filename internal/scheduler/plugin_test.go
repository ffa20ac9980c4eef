package scheduler

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/pool"
)

// pluginLog is a PluginObserver that remembers every observation.
type pluginLog struct {
	mu    sync.Mutex
	calls []Plugin
	total [NumPlugins]time.Duration
}

func (l *pluginLog) ObservePlugin(p Plugin, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, p)
	l.total[p] += d
}

// take returns and clears the plugins observed so far.
func (l *pluginLog) take() []Plugin {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

func TestPickReportsPlugins(t *testing.T) {
	t.Parallel()
	allFilters := []Plugin{PluginExclusionFilter, PluginScrapeFailureFilter, PluginStaleFilter}
	tests := []struct {
		name     string
		strategy Strategy
		weights  *Weights
		want     []Plugin
	}{
		{
			name: "default scorers",
			want: append(append([]Plugin(nil), allFilters...),
				PluginQueueScorer, PluginKVCacheScorer, PluginPrefixScorer, PluginLoRAScorer, PluginInFlightScorer, PluginMaxScorePicker),
		},
		{
			name:    "disabled scorers are not reported",
			weights: &Weights{Queue: 1, Prefix: 2},
			want:    append(append([]Plugin(nil), allFilters...), PluginQueueScorer, PluginPrefixScorer, PluginMaxScorePicker),
		},
		{name: "round robin", strategy: StrategyRoundRobin, want: append(append([]Plugin(nil), allFilters...), PluginRoundRobinPicker)},
		{name: "random", strategy: StrategyRandom, want: append(append([]Plugin(nil), allFilters...), PluginRandomPicker)},
		{name: "least request", strategy: StrategyLeastRequest, want: append(append([]Plugin(nil), allFilters...), PluginLeastRequestPicker)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Strategy = tc.strategy
			if tc.weights != nil {
				cfg.Weights = *tc.weights
			}
			var log pluginLog
			s := New(cfg, fixedRand(0), WithPluginObserver(&log))
			snap := pool.NewSnapshot(idle(4))
			req := &Request{Model: "llama", Prompt: chatPrompt(1, 1, 2048)}
			for range 3 { // the pooled cycle is reused: each Pick reports afresh
				if _, err := s.Pick(req, snap, testNow); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, log.take()); diff != "" {
					t.Fatalf("plugins reported (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.want, cfg.Plugins()); diff != "" {
				t.Errorf("Config.Plugins (-want +got):\n%s", diff)
			}
			for p, d := range log.total {
				if d < 0 {
					t.Errorf("%v took %v", Plugin(p).Info(), d)
				}
			}
		})
	}
}

func TestPickReportsFiltersWhenNothingIsLeft(t *testing.T) {
	t.Parallel()
	var log pluginLog
	s := New(DefaultConfig(), nil, WithPluginObserver(&log))
	eps := idle(1)
	if _, err := s.Pick(&Request{Exclude: eps}, pool.NewSnapshot(eps), testNow); err != ErrNoEndpoint {
		t.Fatalf("Pick = %v, want ErrNoEndpoint", err)
	}
	if diff := cmp.Diff([]Plugin{PluginExclusionFilter}, log.take()); diff != "" {
		t.Errorf("plugins reported (-want +got):\n%s", diff)
	}
}

// TestPickTimesPlugins checks the durations are the plugins' own: the
// prefix scorer, which hashes a 64 KiB prompt, takes longer than the
// exclusion filter over four endpoints.
func TestPickTimesPlugins(t *testing.T) {
	t.Parallel()
	var log pluginLog
	s := New(DefaultConfig(), nil, WithPluginObserver(&log))
	snap := pool.NewSnapshot(idle(4))
	req := &Request{Model: "llama", Prompt: chatPrompt(1, 1, 64<<10)}
	for range 20 {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if pre, excl := log.total[PluginPrefixScorer], log.total[PluginExclusionFilter]; pre <= excl {
		t.Errorf("prefix scorer took %v in all, exclusion filter %v: durations are not per plugin", pre, excl)
	}
}

func TestPluginInfo(t *testing.T) {
	t.Parallel()
	seen := map[PluginInfo]bool{}
	for p := range NumPlugins {
		info := p.Info()
		if info.ExtensionPoint == "" || info.Type == "" || info.Name == "" {
			t.Errorf("plugin %d has empty labels: %+v", p, info)
		}
		if seen[info] {
			t.Errorf("plugin %d repeats %+v", p, info)
		}
		seen[info] = true
	}
	for i, name := range ScorerNames {
		if got := scorerPlugin(i).Info(); got.ExtensionPoint != ExtensionScorer || got.Name != name {
			t.Errorf("scorer %d is plugin %+v, want the Scorer named %q", i, got, name)
		}
	}
	for _, st := range Strategies() {
		if got := pickerPlugin(st).Info(); got.ExtensionPoint != ExtensionPicker {
			t.Errorf("strategy %s picks with %+v, not a Picker", st, got)
		}
	}
}
