package config

import (
	"fmt"
	"math"
	"strings"

	"github.com/infergate/infergate/internal/scheduler"
)

// The scheduler section maps onto [scheduler.Config]: the scheduler owns the
// strategy names, the defaults and the weights; this file only spells them as
// YAML keys and validates them with the scheduler's own lists.

// Scheduler tunes how an endpoint is picked for each request.
type Scheduler struct {
	// Strategy is how endpoints are picked: one of
	// [scheduler.Strategies]: "default" (the weighted scorers below), or one
	// of the baselines "round-robin", "random" and "least-request", which
	// ignore weights and prefix settings (useful for benchmarks, or as a
	// plain load balancer). Default: [scheduler.DefaultConfig]'s.
	Strategy string `yaml:"strategy" json:"strategy"`
	// Weights are the relative weights of the scorers.
	Weights ScorerWeights `yaml:"weights" json:"weights"`
	// QueueDepthThreshold is the waiting-queue length at or above which an
	// endpoint counts as saturated. Default: [scheduler.DefaultConfig]'s;
	// must be > 0.
	QueueDepthThreshold int `yaml:"queueDepthThreshold" json:"queueDepthThreshold"`
	// KVCacheThreshold is the KV-cache utilization (fraction 0..1) at or
	// above which an endpoint counts as saturated. Default:
	// [scheduler.DefaultConfig]'s; must be in (0, 1].
	KVCacheThreshold float64 `yaml:"kvCacheThreshold" json:"kvCacheThreshold"`
	// PrefixBlockTokens is the prefix-cache block size in (estimated)
	// tokens used to hash prompts. Default: [scheduler.DefaultConfig]'s;
	// must be > 0.
	PrefixBlockTokens int `yaml:"prefixBlockTokens" json:"prefixBlockTokens"`
	// PrefixMaxBlocks caps how many leading blocks of a prompt are hashed.
	// Default: [scheduler.DefaultConfig]'s; must be > 0.
	PrefixMaxBlocks int `yaml:"prefixMaxBlocks" json:"prefixMaxBlocks"`
	// PrefixLRUCapacity is how many block hashes the prefix index remembers
	// per endpoint. Default: [scheduler.DefaultConfig]'s; must be > 0.
	PrefixLRUCapacity int `yaml:"prefixLRUCapacity" json:"prefixLRUCapacity"`
}

// ScorerWeights are the relative weights of the scheduler's scorers. A nil
// weight means the scheduler's default (see [scheduler.DefaultConfig], which
// owns the values and says why they were chosen); 0 disables that scorer.
// Weights must be finite and >= 0, and at least one must be > 0. Read them
// with the XxxWeight methods, which resolve nil to the default.
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
func (w ScorerWeights) QueueWeight() float64 {
	return floatOr(w.Queue, scheduler.DefaultConfig().Weights.Queue)
}

// KVCacheWeight returns the KV-cache scorer's weight, or its default when
// unset.
func (w ScorerWeights) KVCacheWeight() float64 {
	return floatOr(w.KVCache, scheduler.DefaultConfig().Weights.KVCache)
}

// PrefixWeight returns the prefix scorer's weight, or its default when unset.
func (w ScorerWeights) PrefixWeight() float64 {
	return floatOr(w.Prefix, scheduler.DefaultConfig().Weights.Prefix)
}

// LoRAWeight returns the LoRA scorer's weight, or its default when unset.
func (w ScorerWeights) LoRAWeight() float64 {
	return floatOr(w.LoRA, scheduler.DefaultConfig().Weights.LoRA)
}

// InFlightWeight returns the in-flight scorer's weight, or its default when
// unset.
func (w ScorerWeights) InFlightWeight() float64 {
	return floatOr(w.InFlight, scheduler.DefaultConfig().Weights.InFlight)
}

// applyDefaults fills unset thresholds and weights with the scheduler's
// defaults.
func (s *Scheduler) applyDefaults() {
	def := scheduler.DefaultConfig()
	if s.Strategy == "" {
		s.Strategy = string(def.Strategy)
	}
	if s.QueueDepthThreshold == 0 {
		s.QueueDepthThreshold = def.QueueDepthThreshold
	}
	if s.KVCacheThreshold == 0 {
		s.KVCacheThreshold = def.KVCacheThreshold
	}
	if s.PrefixBlockTokens == 0 {
		s.PrefixBlockTokens = def.PrefixBlockTokens
	}
	if s.PrefixMaxBlocks == 0 {
		s.PrefixMaxBlocks = def.PrefixMaxBlocks
	}
	if s.PrefixLRUCapacity == 0 {
		s.PrefixLRUCapacity = def.PrefixLRUCapacity
	}
	w := &s.Weights
	for _, f := range []struct {
		p   **float64
		def float64
	}{
		{&w.Queue, def.Weights.Queue},
		{&w.KVCache, def.Weights.KVCache},
		{&w.Prefix, def.Weights.Prefix},
		{&w.LoRA, def.Weights.LoRA},
		{&w.InFlight, def.Weights.InFlight},
	} {
		if *f.p == nil {
			*f.p = new(f.def)
		}
	}
}

// validate checks thresholds and weights.
func (s Scheduler) validate() []error {
	var errs []error
	if !scheduler.Strategy(s.Strategy).Valid() {
		errs = append(errs, fieldErrorf("scheduler.strategy", "%q is not one of %s", s.Strategy, strategyList()))
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

// strategyList quotes the scheduler's strategies for error messages, in the
// scheduler's order.
func strategyList() string {
	names := make([]string, 0, len(scheduler.Strategies()))
	for _, st := range scheduler.Strategies() {
		names = append(names, fmt.Sprintf("%q", st))
	}
	return strings.Join(names, ", ")
}
