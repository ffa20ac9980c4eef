package scheduler

// NumScorers is the number of built-in scorers.
const NumScorers = 5

// Scorer indices into [Result.Scores] and [ScorerNames].
const (
	ScorerQueue    = 0
	ScorerKVCache  = 1
	ScorerPrefix   = 2
	ScorerLoRA     = 3
	ScorerInFlight = 4
)

// ScorerNames are the scorers' stable names (for metrics labels and debug
// headers), indexed like [Result.Scores].
var ScorerNames = [NumScorers]string{"queue", "kv-cache", "prefix", "lora", "in-flight"}

// scorer rates every candidate of a scheduling cycle.
//
// score writes one value in [0,1] per candidate into out, indexed like
// c.cands (len(out) == len(c.cands)); higher is better. It must not allocate,
// must not retain c or out, and must be safe for concurrent use (each call
// gets its own cycle).
type scorer interface {
	score(c *cycle, out []float64)
}

// newScorers returns the scorer table, indexed by the Scorer* constants.
func newScorers() [NumScorers]scorer {
	return [NumScorers]scorer{
		ScorerQueue:    queueScorer{},
		ScorerKVCache:  kvCacheScorer{},
		ScorerPrefix:   prefixScorer{},
		ScorerLoRA:     loraScorer{},
		ScorerInFlight: inFlightScorer{},
	}
}
