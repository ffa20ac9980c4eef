package scheduler

import (
	"errors"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler/prefix"
)

// ErrNoEndpoint means no candidate endpoint is left: the pool is empty or
// every endpoint is excluded.
var ErrNoEndpoint = errors.New("no endpoint available")

// Scheduler picks an endpoint for each request. It is safe for concurrent
// use; the zero value is not usable, call [New].
type Scheduler struct {
	cfg      Config
	rnd      Rand
	baseline baseline // nil for StrategyDefault
	scorers  [NumScorers]scorer
	index    *prefix.Index
	adapters *adapterMemory
	cycles   sync.Pool      // *cycle
	observer PluginObserver // nil: plugins are not timed
	picker   Plugin         // the picker plugin of cfg.Strategy
}

// New returns a scheduler. Unset thresholds in cfg take their defaults (see
// [Config]). rnd breaks ties between equally scored endpoints and must be
// safe for concurrent use; nil means a randomly seeded source from
// math/rand/v2. opts add optional behaviour, such as
// [WithPluginObserver].
func New(cfg Config, rnd Rand, opts ...Option) *Scheduler {
	if rnd == nil {
		rnd = runtimeRand{}
	}
	cfg = cfg.withDefaults()
	s := &Scheduler{
		cfg:      cfg,
		rnd:      rnd,
		baseline: newBaseline(cfg.Strategy),
		scorers:  newScorers(),
		index:    prefix.NewIndex(),
		adapters: newAdapterMemory(),
		cycles:   sync.Pool{New: func() any { return new(cycle) }},
		picker:   pickerPlugin(cfg.Strategy),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the scheduler's effective configuration, defaults applied.
func (s *Scheduler) Config() Config { return s.cfg }

// Pick chooses an endpoint for req from snap: it filters the endpoints
// (see filter.go), scores the survivors with every enabled scorer, and
// returns the one with the highest weighted total, breaking ties at random.
// Under a baseline [Strategy] the survivors are not scored: the strategy's
// picker chooses one (roundrobin.go, random.go, leastrequest.go) and the
// prompt is not hashed. It returns [ErrNoEndpoint] when no endpoint is
// left.
//
// Pick hashes req.Prompt and keeps the hashes in req for [Scheduler.Commit];
// it does not retain Prompt. It is safe for concurrent use (with distinct
// Requests) and, with a reused Request, allocates nothing in steady state.
func (s *Scheduler) Pick(req *Request, snap *pool.Snapshot, now time.Time) (Result, error) {
	if snap == nil || snap.Len() == 0 {
		return Result{}, ErrNoEndpoint
	}
	c := s.cycles.Get().(*cycle)
	defer s.cycles.Put(c)
	defer c.end()

	req.adapter = false
	c.begin(&s.cfg, req, s.adapters, snap.Len())
	t := &c.timer
	t.begin(s.observer)
	defer t.report()
	c.loadCandidates(snap.Endpoints(), req.Exclude)
	if len(c.cands) == 0 {
		t.mark(PluginExclusionFilter)
		return Result{}, ErrNoEndpoint
	}
	// Outlier ejection is timed with the exclusion filter (both keep
	// endpoints known to be unfit out), so the plugin series stay as
	// upstream's.
	c.filterEjected(now)
	t.mark(PluginExclusionFilter)
	c.filterScrapeFailures(int64(s.cfg.MaxScrapeFailures))
	t.mark(PluginScrapeFailureFilter)
	c.filterStale(now, s.cfg.Staleness)
	t.mark(PluginStaleFilter)
	if s.baseline != nil {
		best := s.baseline.choose(c.cands, s.rnd)
		t.mark(s.picker)
		if req.Ranking != nil {
			req.Ranking.fill(c.cands, nil, best)
		}
		return Result{Endpoint: c.cands[best], Candidates: len(c.cands)}, nil
	}
	c.measure()
	t.skip()

	if s.cfg.Weights.Prefix > 0 {
		bt := c.blockTokens()
		req.hashes = prefix.AppendHashes(req.hashes[:0], req.Model, req.Prompt, bt*bytesPerToken, s.cfg.PrefixMaxBlocks)
		req.hashed, req.blockTokens = true, bt
		c.totalBlocks = len(req.hashes)
		s.index.Match(req.hashes, c.cands, c.match, &c.prefix)
		t.mark(PluginPrefixScorer)
	}

	for i, sc := range s.scorers {
		w := s.cfg.Weights.weight(i)
		if w == 0 {
			continue
		}
		out := c.scores[i]
		sc.score(c, out)
		for j, v := range out {
			c.total[j] += w * v
		}
		t.mark(scorerPlugin(i))
	}

	best := maxScore(c.total, s.rnd)
	t.mark(PluginMaxScorePicker)
	if req.Ranking != nil {
		req.Ranking.fill(c.cands, c.total, best)
	}
	res := Result{
		Endpoint:          c.cands[best],
		PrefixMatchBlocks: c.match[best],
		PrefixTotalBlocks: c.totalBlocks,
		Total:             c.total[best],
		Candidates:        len(c.cands),
	}
	for i := range res.Scores {
		if s.cfg.Weights.weight(i) != 0 {
			res.Scores[i] = c.scores[i][best]
		}
	}
	return res, nil
}

// Commit records that req was sent to ep: ep's prefix index learns req's
// prompt blocks, so later requests sharing the prefix prefer ep, and when
// the Pick treated req.Model as a LoRA adapter, the adapter memory records
// it on ep. Commit
// uses the hashes of the latest Pick with req (Prompt may have been cleared
// since); a Request that was never picked is hashed from its Prompt. Commit
// may be called for several endpoints after one Pick (for example a prefill
// and a decode endpoint). It is safe for concurrent use with distinct
// Requests.
//
// The index keeps up to ep's reported num_gpu_blocks (converted to the
// hashing block size) blocks for ep, or PrefixLRUCapacity when unknown,
// and never more than prefix.MaxCapacity. Under a baseline [Strategy]
// Commit does nothing.
func (s *Scheduler) Commit(req *Request, ep *pool.Endpoint) {
	if ep == nil || s.baseline != nil {
		return
	}
	if req.adapter && s.cfg.Weights.LoRA > 0 {
		s.adapters.sent(ep, req.Model)
	}
	if s.cfg.Weights.Prefix == 0 {
		return
	}
	m := ep.Metrics()
	if !req.hashed {
		bt := s.cfg.PrefixBlockTokens
		if m != nil && m.BlockSize > 0 {
			bt = min(m.BlockSize, maxBlockTokens)
		}
		req.hashes = prefix.AppendHashes(req.hashes[:0], req.Model, req.Prompt, bt*bytesPerToken, s.cfg.PrefixMaxBlocks)
		req.hashed, req.blockTokens = true, bt
	}
	if len(req.hashes) == 0 {
		return
	}
	s.index.Add(ep, req.hashes, s.capacity(m, req.blockTokens))
}

// capacity returns how many blocks of blockTokens tokens the index should
// remember for an endpoint with metrics m.
func (s *Scheduler) capacity(m *pool.Metrics, blockTokens int) int {
	if m == nil || m.NumGPUBlocks <= 0 {
		return s.cfg.PrefixLRUCapacity
	}
	blocks := float64(m.NumGPUBlocks)
	if m.BlockSize > 0 && blockTokens > 0 {
		blocks = blocks * float64(m.BlockSize) / float64(blockTokens)
	}
	return int(min(blocks, prefix.MaxCapacity))
}

// PrefixIndexSize returns the number of (endpoint, block) entries in the
// prefix index, for the inference_extension_prefix_indexer_size gauge.
func (s *Scheduler) PrefixIndexSize() int { return s.index.Len() }

// Forget drops the prefix-index and adapter-memory state of endpoints that are not in snap.
// Call it after membership changes; it costs O(entries dropped). An
// endpoint is kept only if snap holds that same *pool.Endpoint (a replica
// re-created at the same address starts with an empty cache).
func (s *Scheduler) Forget(snap *pool.Snapshot) {
	keep := func(ep *pool.Endpoint) bool {
		return snap != nil && snap.Lookup(ep.Address()) == ep
	}
	s.index.Retain(keep)
	s.adapters.retain(keep)
}
