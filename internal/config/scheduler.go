package config

import "math"

// Scheduler defaults.
const (
	defaultStrategy            = StrategyDefault
	defaultQueueDepthThreshold = 5
	defaultKVCacheThreshold    = 0.8
	defaultPrefixBlockTokens   = 16
	defaultPrefixMaxBlocks     = 256
	defaultPrefixLRUCapacity   = 31250

	defaultQueueWeight    = 3
	defaultKVCacheWeight  = 2
	defaultPrefixWeight   = 3
	defaultLoRAWeight     = 6
	defaultInFlightWeight = 1
)

// Strategies accepted by scheduler.strategy.
const (
	// StrategyDefault picks with infergate's weighted scorers.
	StrategyDefault = "default"
	// StrategyRoundRobin cycles through the endpoints per request.
	StrategyRoundRobin = "round-robin"
	// StrategyRandom picks an endpoint uniformly at random.
	StrategyRandom = "random"
	// StrategyLeastRequest picks the endpoint with the fewest requests in
	// flight from the gateway, ties at random.
	StrategyLeastRequest = "least-request"
)

// Scheduler tunes how an endpoint is picked for each request.
type Scheduler struct {
	// Strategy is how endpoints are picked: "default" (the weighted
	// scorers below), or one of the baselines "round-robin", "random" and
	// "least-request", which ignore weights and prefix settings (useful for
	// benchmarks, or as a plain load balancer). Default "default".
	Strategy string `yaml:"strategy" json:"strategy"`
	// Weights are the relative weights of the scorers.
	Weights ScorerWeights `yaml:"weights" json:"weights"`
	// QueueDepthThreshold is the waiting-queue length at or above which an
	// endpoint counts as saturated. Default 5; must be > 0.
	QueueDepthThreshold int `yaml:"queueDepthThreshold" json:"queueDepthThreshold"`
	// KVCacheThreshold is the KV-cache utilization (fraction 0..1) at or
	// above which an endpoint counts as saturated. Default 0.8; must be in
	// (0, 1].
	KVCacheThreshold float64 `yaml:"kvCacheThreshold" json:"kvCacheThreshold"`
	// PrefixBlockTokens is the prefix-cache block size in (estimated)
	// tokens used to hash prompts. Default 16; must be > 0.
	PrefixBlockTokens int `yaml:"prefixBlockTokens" json:"prefixBlockTokens"`
	// PrefixMaxBlocks caps how many leading blocks of a prompt are hashed.
	// Default 256; must be > 0.
	PrefixMaxBlocks int `yaml:"prefixMaxBlocks" json:"prefixMaxBlocks"`
	// PrefixLRUCapacity is how many block hashes the prefix index remembers
	// per endpoint. Default 31250; must be > 0.
	PrefixLRUCapacity int `yaml:"prefixLRUCapacity" json:"prefixLRUCapacity"`
}

// ScorerWeights are the relative weights of the scheduler's scorers. A nil
// weight means the default (queue 2, kvCache 2, prefix 3, lora 1,
// inFlight 1); 0 disables that scorer. Weights must be finite and >= 0, and
// at least one must be > 0. Read them with the XxxWeight methods, which
// resolve nil to the default.
type ScorerWeights struct {
	// Queue weighs the waiting-queue scorer.
	Queue *float64 `yaml:"queue" json:"queue"`
	// KVCache weighs the KV-cache utilization scorer.
	KVCache *float64 `yaml:"kvCache" json:"kvCache"`
	// Prefix weighs the prefix-cache affinity scorer.
	Prefix *float64 `yaml:"prefix" json:"prefix"`
	// LoRA weighs the LoRA-adapter affinity scorer.
	LoRA *float64 `yaml:"lora" json:"lora"`
	// InFlight weighs the gateway-side in-flight requests scorer.
	InFlight *float64 `yaml:"inFlight" json:"inFlight"`
}

// QueueWeight returns the queue scorer's weight, or its default when unset.
func (w ScorerWeights) QueueWeight() float64 { return floatOr(w.Queue, defaultQueueWeight) }

// KVCacheWeight returns the KV-cache scorer's weight, or its default when
// unset.
func (w ScorerWeights) KVCacheWeight() float64 { return floatOr(w.KVCache, defaultKVCacheWeight) }

// PrefixWeight returns the prefix scorer's weight, or its default when unset.
func (w ScorerWeights) PrefixWeight() float64 { return floatOr(w.Prefix, defaultPrefixWeight) }

// LoRAWeight returns the LoRA scorer's weight, or its default when unset.
func (w ScorerWeights) LoRAWeight() float64 { return floatOr(w.LoRA, defaultLoRAWeight) }

// InFlightWeight returns the in-flight scorer's weight, or its default when
// unset.
func (w ScorerWeights) InFlightWeight() float64 { return floatOr(w.InFlight, defaultInFlightWeight) }

// applyDefaults fills unset thresholds and weights.
func (s *Scheduler) applyDefaults() {
	if s.Strategy == "" {
		s.Strategy = defaultStrategy
	}
	if s.QueueDepthThreshold == 0 {
		s.QueueDepthThreshold = defaultQueueDepthThreshold
	}
	if s.KVCacheThreshold == 0 {
		s.KVCacheThreshold = defaultKVCacheThreshold
	}
	if s.PrefixBlockTokens == 0 {
		s.PrefixBlockTokens = defaultPrefixBlockTokens
	}
	if s.PrefixMaxBlocks == 0 {
		s.PrefixMaxBlocks = defaultPrefixMaxBlocks
	}
	if s.PrefixLRUCapacity == 0 {
		s.PrefixLRUCapacity = defaultPrefixLRUCapacity
	}
	w := &s.Weights
	for _, f := range []struct {
		p   **float64
		def float64
	}{
		{&w.Queue, defaultQueueWeight},
		{&w.KVCache, defaultKVCacheWeight},
		{&w.Prefix, defaultPrefixWeight},
		{&w.LoRA, defaultLoRAWeight},
		{&w.InFlight, defaultInFlightWeight},
	} {
		if *f.p == nil {
			*f.p = new(f.def)
		}
	}
}

// validate checks thresholds and weights.
func (s Scheduler) validate() []error {
	var errs []error
	switch s.Strategy {
	case StrategyDefault, StrategyRoundRobin, StrategyRandom, StrategyLeastRequest:
	default:
		errs = append(errs, fieldErrorf("scheduler.strategy", "%q is not one of %q, %q, %q, %q",
			s.Strategy, StrategyDefault, StrategyRoundRobin, StrategyRandom, StrategyLeastRequest))
	}
	for _, f := range []struct {
		field string
		v     int
	}{
		{"scheduler.queueDepthThreshold", s.QueueDepthThreshold},
		{"scheduler.prefixBlockTokens", s.PrefixBlockTokens},
		{"scheduler.prefixMaxBlocks", s.PrefixMaxBlocks},
		{"scheduler.prefixLRUCapacity", s.PrefixLRUCapacity},
	} {
		if f.v <= 0 {
			errs = append(errs, fieldErrorf(f.field, "must be > 0, got %d", f.v))
		}
	}
	if !(s.KVCacheThreshold > 0 && s.KVCacheThreshold <= 1) {
		errs = append(errs, fieldErrorf("scheduler.kvCacheThreshold", "must be in (0, 1], got %v", s.KVCacheThreshold))
	}
	w := s.Weights
	anyPositive := false
	for _, f := range []struct {
		field string
		v     float64
	}{
		{"scheduler.weights.queue", w.QueueWeight()},
		{"scheduler.weights.kvCache", w.KVCacheWeight()},
		{"scheduler.weights.prefix", w.PrefixWeight()},
		{"scheduler.weights.lora", w.LoRAWeight()},
		{"scheduler.weights.inFlight", w.InFlightWeight()},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			errs = append(errs, fieldErrorf(f.field, "must be a finite number >= 0, got %v", f.v))
			continue
		}
		if f.v > 0 {
			anyPositive = true
		}
	}
	if !anyPositive {
		errs = append(errs, fieldErrorf("scheduler.weights", "at least one weight must be > 0"))
	}
	return errs
}

// floatOr returns *p, or def when p is nil.
func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}
