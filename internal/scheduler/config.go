package scheduler

import "time"

// Config tunes a [Scheduler]. Start from [DefaultConfig]; [New] replaces
// zero or negative thresholds with their defaults (weights are taken as
// given: zero disables a scorer).
type Config struct {
	// Strategy chooses how endpoints are picked; "" means
	// [StrategyDefault]. The weights, the prefix settings and the queue
	// threshold of the pick only apply to the default strategy (saturation
	// uses the thresholds whatever the strategy).
	Strategy Strategy
	// Weights are the scorers' weights; a zero weight disables a scorer.
	Weights Weights
	// QueueDepthThreshold is the effective queue depth (waiting requests plus
	// gateway requests the scrape has not seen yet) at which an endpoint
	// counts as full. It is both the saturation threshold and the distance
	// from the least-loaded candidate at which the queue scorer reaches 0.
	// Default 5.
	QueueDepthThreshold int
	// KVCacheThreshold is the KV-cache utilisation (0 to 1) at which an
	// endpoint counts as full for saturation. Default 0.8.
	KVCacheThreshold float64
	// Staleness is the age beyond which scraped metrics count as stale.
	// Stale endpoints are avoided while fresh ones exist and count as full
	// for saturation. Default 2s.
	Staleness time.Duration
	// PrefixBlockTokens is the prefix-block size in tokens when no candidate
	// reports its KV-cache block size. A block is PrefixBlockTokens×4 bytes
	// of prompt (about 4 bytes per token). Default 16, vLLM's default.
	PrefixBlockTokens int
	// PrefixMaxBlocks is how many leading blocks of a prompt are hashed.
	// Default 256 (16 KiB of prompt at 16-token blocks).
	PrefixMaxBlocks int
	// PrefixLRUCapacity is how many blocks the prefix index remembers per
	// endpoint when the endpoint does not report num_gpu_blocks. Default
	// 31250 (500k tokens at 16-token blocks).
	PrefixLRUCapacity int
	// MaxScrapeFailures is the number of consecutive failed scrapes after
	// which an endpoint is avoided while others exist. Default 3. (The
	// scraper does not count timeouts as failures; a replica that stays
	// silent is set aside by Staleness instead.)
	MaxScrapeFailures int
}

// Weights are the relative weights of the scorers. Each scorer returns a
// value in [0,1] per candidate; an endpoint's total is the weighted sum.
// A zero weight disables (and skips) that scorer.
type Weights struct {
	// Queue weighs the effective-queue scorer.
	Queue float64
	// KVCache weighs the KV-cache utilisation scorer.
	KVCache float64
	// Prefix weighs the prefix-cache affinity scorer.
	Prefix float64
	// LoRA weighs the LoRA-adapter affinity scorer.
	LoRA float64
	// InFlight weighs the gateway in-flight load scorer.
	InFlight float64
}

// Defaults used by [DefaultConfig] and by [New] for unset thresholds.
const (
	defaultQueueDepthThreshold = 5
	defaultKVCacheThreshold    = 0.8
	defaultStaleness           = 2 * time.Second
	defaultPrefixBlockTokens   = 16
	defaultPrefixMaxBlocks     = 256
	defaultPrefixLRUCapacity   = 31250
	defaultMaxScrapeFailures   = 3

	// bytesPerToken approximates tokens from prompt bytes.
	bytesPerToken = 4
	// maxBlockTokens caps a scraped block size, which is untrusted input.
	maxBlockTokens = 4096
)

// DefaultConfig returns the defaults: upstream's thresholds and prefix
// settings, and weights queue 3, kv-cache 2, prefix 3, lora 6, in-flight 1.
//
// Why these weights. A full prefix match is worth 3 points. The queue
// scorer is quadratic in the gap to the least-loaded candidate measured in
// QueueDepthThreshold units (see queue.go), so a holder one or two requests
// deeper than an idle replica loses only 0.12 or 0.48 points and keeps its
// prefix traffic, while at four queued requests more it loses 1.92 and at a
// full threshold's gap 3, which, with the kv-cache and in-flight gaps that
// come with it, hands the request to the idle replica. Weighting queue 3
// (upstream: 2) is what lets overload beat affinity; upstream's linear
// min-max queue scorer instead charges the full weight for a one-request gap
// yet can never outweigh a full prefix match, which is how a hot prefix
// piles onto one replica. Once a second replica serves the prefix it is a
// holder too, so a hot prefix spreads over just enough replicas. KV-cache
// keeps upstream's 2. LoRA 6 (upstream: 2) makes a replica where the adapter
// is active, or was sent lately, worth 1.2 points more than one with a free
// slot (a load stalls the batch) and 6 more than one with no free slot, so
// adapter traffic stays put until its replica is about three queued requests
// deeper; tuned with the benchmark's multi-LoRA workload (16 adapters, Zipf
// 1.1, 3 seeds, 20 and 26 req/s), where 6 instead of 2 cut the TTFT p99 from
// 570–810 ms to 130–255 ms and never raised p90. The weight is inert for
// base-model requests. In-flight 1 is a min-max spreader: it decides among
// otherwise-equal replicas (cold prompts, no scrape yet) but can never beat a
// prefix match on its own.
func DefaultConfig() Config {
	return Config{
		Strategy: StrategyDefault,
		Weights: Weights{
			Queue:    3,
			KVCache:  2,
			Prefix:   3,
			LoRA:     6,
			InFlight: 1,
		},
		QueueDepthThreshold: defaultQueueDepthThreshold,
		KVCacheThreshold:    defaultKVCacheThreshold,
		Staleness:           defaultStaleness,
		PrefixBlockTokens:   defaultPrefixBlockTokens,
		PrefixMaxBlocks:     defaultPrefixMaxBlocks,
		PrefixLRUCapacity:   defaultPrefixLRUCapacity,
		MaxScrapeFailures:   defaultMaxScrapeFailures,
	}
}

// withDefaults returns c with an unset or unknown strategy, and unset or
// invalid thresholds, replaced by defaults and negative or NaN weights
// treated as zero.
func (c Config) withDefaults() Config {
	if !c.Strategy.Valid() {
		c.Strategy = StrategyDefault
	}
	if c.QueueDepthThreshold <= 0 {
		c.QueueDepthThreshold = defaultQueueDepthThreshold
	}
	if !(c.KVCacheThreshold > 0) {
		c.KVCacheThreshold = defaultKVCacheThreshold
	}
	if c.Staleness <= 0 {
		c.Staleness = defaultStaleness
	}
	if c.PrefixBlockTokens <= 0 {
		c.PrefixBlockTokens = defaultPrefixBlockTokens
	}
	c.PrefixBlockTokens = min(c.PrefixBlockTokens, maxBlockTokens)
	if c.PrefixMaxBlocks <= 0 {
		c.PrefixMaxBlocks = defaultPrefixMaxBlocks
	}
	if c.PrefixLRUCapacity <= 0 {
		c.PrefixLRUCapacity = defaultPrefixLRUCapacity
	}
	if c.MaxScrapeFailures <= 0 {
		c.MaxScrapeFailures = defaultMaxScrapeFailures
	}
	for _, w := range []*float64{&c.Weights.Queue, &c.Weights.KVCache, &c.Weights.Prefix, &c.Weights.LoRA, &c.Weights.InFlight} {
		if !(*w > 0) {
			*w = 0
		}
	}
	return c
}

// weight returns the weight of scorer i.
func (w *Weights) weight(i int) float64 {
	switch i {
	case ScorerQueue:
		return w.Queue
	case ScorerKVCache:
		return w.KVCache
	case ScorerPrefix:
		return w.Prefix
	case ScorerLoRA:
		return w.LoRA
	case ScorerInFlight:
		return w.InFlight
	}
	return 0
}
