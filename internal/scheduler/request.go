package scheduler

import (
	"cmp"
	"slices"

	"github.com/infergate/infergate/internal/pool"
)

// Request is what the scheduler needs to know about one inference request.
//
// A Request carries reusable scratch (its prompt's block hashes), so reusing
// one Request value across requests makes [Scheduler.Pick] allocation-free.
// A Request must not be used by concurrent Pick or Commit calls.
type Request struct {
	// Model is the model name sent to the replica: a base model or a LoRA
	// adapter name. It seeds the prefix hashes and drives LoRA affinity.
	Model string
	// Prompt holds the bytes used for prefix hashing (the raw JSON of the
	// prompt or messages). The scheduler reads it during Pick (and during
	// Commit when no Pick preceded it) and never retains it; the caller may
	// clear or reuse it as soon as Pick returns.
	Prompt []byte
	// EstimatedTokens is the prompt-plus-output token estimate. The
	// scheduler does not account it: the caller charges it to the picked
	// endpoint with [pool.Endpoint.Acquire], which the in-flight and queue
	// scorers then see.
	EstimatedTokens int64
	// Priority is the objective priority; negative means sheddable. Pick
	// ignores it; it is for admission.
	Priority int
	// Exclude lists endpoints already tried for this request (retries).
	// They are never picked.
	Exclude []*pool.Endpoint
	// Ranking, when set, receives every candidate of the next Pick with its
	// weighted score, best first (for fallbacks and per-endpoint scores);
	// nil (the proxy's case) costs nothing.
	Ranking *Ranking

	// hashes are Prompt's block hashes from the last Pick, reused by Commit
	// (the caller may clear Prompt in between) and kept as scratch.
	hashes []uint64
	// hashed reports whether a Pick has filled hashes.
	hashed bool
	// blockTokens is the block size, in tokens, hashes were computed with.
	blockTokens int
	// adapter reports whether the last Pick treated Model as a LoRA
	// adapter (see loraScorer); Commit then remembers where it went.
	adapter bool
}

// Result explains a pick.
type Result struct {
	// Endpoint is the picked endpoint.
	Endpoint *pool.Endpoint
	// PrefixMatchBlocks is how many leading prompt blocks the picked endpoint
	// likely has cached, per the prefix index.
	PrefixMatchBlocks int
	// PrefixTotalBlocks is how many blocks the prompt was hashed into (0 when
	// shorter than one block or when prefix scoring is disabled).
	PrefixTotalBlocks int
	// Scores holds each scorer's raw score in [0,1] for the picked endpoint,
	// indexed like [ScorerNames]; 0 for disabled scorers.
	Scores [NumScorers]float64
	// Total is the picked endpoint's weighted score.
	Total float64
	// Candidates is the number of endpoints left after filtering.
	Candidates int
}

// Ranked is one candidate of a pick and its weighted total score.
type Ranked struct {
	// Endpoint is the candidate.
	Endpoint *pool.Endpoint
	// Score is its weighted total (0 under a baseline strategy, which does
	// not score).
	Score float64
}

// Ranking is the candidates of a pick, best first: the picked endpoint,
// then the others by descending score.
type Ranking struct {
	// Candidates are the endpoints left after filtering, best first.
	Candidates []Ranked
}

// fill replaces r's candidates with cands and their totals (nil totals: all
// 0), picked first and the rest by descending score.
func (r *Ranking) fill(cands []*pool.Endpoint, totals []float64, picked int) {
	r.Candidates = r.Candidates[:0]
	score := func(i int) float64 {
		if totals == nil {
			return 0
		}
		return totals[i]
	}
	r.Candidates = append(r.Candidates, Ranked{Endpoint: cands[picked], Score: score(picked)})
	for i, ep := range cands {
		if i != picked {
			r.Candidates = append(r.Candidates, Ranked{Endpoint: ep, Score: score(i)})
		}
	}
	rest := r.Candidates[1:]
	slices.SortStableFunc(rest, func(a, b Ranked) int { return cmp.Compare(b.Score, a.Score) })
}
