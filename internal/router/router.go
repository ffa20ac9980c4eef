package router

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/scheduler"
)

// ErrModelNotFound means no configured model and no replica serves the
// requested model name.
var ErrModelNotFound = errors.New("model not found")

// defaultOutputTokens is the output estimate for requests without max_tokens.
const defaultOutputTokens = 256

// bytesPerToken approximates tokens from prompt bytes; the same ratio the
// scheduler uses for prefix blocks.
const bytesPerToken = 4

// Model is a served model name and how its traffic is split.
type Model struct {
	// Name is what clients send in the body's "model" field. An empty Name
	// makes the model its pool's catch-all: its targets apply to every
	// request for the pool that no named model matches (an
	// InferenceModelRewrite rule without matches).
	Name string
	// Pool names the pool that serves it.
	Pool string
	// Objective is the default objective (priority) of its requests; "" means priority 0.
	Objective string
	// Targets are the models sent to the replicas, chosen by weight. Empty
	// means Name is sent unchanged.
	Targets []Target
}

// Target is one side of a traffic split.
type Target struct {
	// Model is the model name the replica receives (a base model or a LoRA adapter).
	Model string
	// Weight is the relative share of traffic, at least 1.
	Weight int
}

// Pool is a pool of endpoints and the scheduler that picks among them. Each
// pool has its own scheduler, so prefix-index state stays per pool.
type Pool struct {
	Store     *pool.Store
	Scheduler *scheduler.Scheduler
	// Flow is the pool's flow control, handed to front ends in
	// [Decision.Flow]; nil admits everything (the router's legacy
	// [Options.Admission] then applies in [Router.Pick]).
	Flow *admission.Queue
}

// Catalog is what a Router routes over. [Router.SetCatalog] replaces it as a
// whole, so a request sees one consistent version.
type Catalog struct {
	// Pools are the pools requests may go to; the first is the default for
	// models without a pool and is searched first for models discovered
	// from replicas' /v1/models.
	Pools []Pool
	// Models are the configured models, at most one catch-all per pool.
	Models []Model
	// Objectives maps objective names to priorities (negative = sheddable).
	Objectives map[string]int
}

// Options configure a Router.
type Options struct {
	// Catalog is the initial catalog; it may be empty (Kubernetes mode
	// fills it later with [Router.SetCatalog]).
	Catalog
	// Admission sheds sheddable requests under saturation; nil admits everything.
	Admission *admission.Controller
	// Observer records every pick's outcome (see [ScheduleObserver]); nil
	// records nothing.
	Observer ScheduleObserver
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand draws traffic-split choices in [0,1); nil means math/rand/v2.
	Rand func() float64
	// Logger receives debug logs; nil discards.
	Logger *slog.Logger
	// Decisions receives every successful pick (see [DecisionRecorder]);
	// nil records nothing.
	Decisions DecisionRecorder
}

// Input is what the router needs to know about one request.
type Input struct {
	// Model is the body's "model" field.
	Model string
	// Prompt holds the bytes used for prefix affinity. It is read during
	// Route and Retry only.
	Prompt []byte
	// MaxTokens is the requested output limit, 0 when absent.
	MaxTokens int
	// Objective is the x-gateway-inference-objective header, "" when absent.
	Objective string
	// ModelRewrite is the x-gateway-model-name-rewrite header, "" when absent.
	ModelRewrite string
	// TraceID is the request's trace ID (32 hex digits), "" when tracing is
	// off; decision records carry it.
	TraceID string
	// Pool, when set, restricts the request to the pool of that name (an
	// ext_proc listener serves one pool, since Envoy names none): a model
	// served only elsewhere is not found, and a pool missing from the
	// catalog has no endpoint. "" searches every pool.
	Pool string
	// Allow, when set, restricts the pick to the endpoints it accepts (an
	// Envoy subset hint); when it accepts none the pick fails with
	// [scheduler.ErrNoEndpoint]. nil allows every endpoint.
	Allow func(*pool.Endpoint) bool
	// Ranking, when set, receives the pick's candidates best first (see
	// [scheduler.Ranking]); nil costs nothing.
	Ranking *scheduler.Ranking
}

// Decision is a routing decision for one request. Endpoint changes when
// [Router.Retry] picks again.
type Decision struct {
	// Model is the model the client asked for.
	Model string
	// TargetModel is the model the replica receives.
	TargetModel string
	// Priority is the request's objective priority.
	Priority int
	// Pool is the pool the request goes to.
	Pool  *pool.Store
	sched *scheduler.Scheduler
	// Endpoint is the endpoint picked most recently.
	Endpoint *pool.Endpoint
	// Result is the scheduler's explanation of the latest pick.
	Result scheduler.Result
	// Tokens is the request's estimated token cost (prompt plus output).
	Tokens int64
	// Flow is the pool's flow control; a front end calls
	// Flow.Enqueue between [Router.Prepare] and [Router.Pick]. Nil admits
	// everything.
	Flow *admission.Queue
	// TraceID is the request's trace ID, "" when tracing is off.
	TraceID string

	req   scheduler.Request
	allow func(*pool.Endpoint) bool // Input.Allow
}

// Router routes requests. It is safe for concurrent use.
type Router struct {
	table     atomic.Pointer[table]
	adm       *admission.Controller
	observer  ScheduleObserver
	now       func() time.Time
	rnd       func() float64
	log       *slog.Logger
	decisions DecisionRecorder

	// catalog caches the sorted union of model names for a second.
	catalogMu sync.Mutex
	catalog   []string
	catalogAt time.Time
	catalogOf *table
}

// table is one immutable version of the catalog, indexed for lookups.
type table struct {
	pools      []Pool
	byName     map[string]Pool
	models     map[string]Model
	catchAll   map[string]Model // by pool name
	objectives map[string]int
}

// newTable indexes c.
func newTable(c Catalog) *table {
	t := &table{
		pools:      c.Pools,
		byName:     make(map[string]Pool, len(c.Pools)),
		models:     make(map[string]Model, len(c.Models)),
		catchAll:   make(map[string]Model),
		objectives: c.Objectives,
	}
	for _, p := range c.Pools {
		t.byName[p.Store.Name()] = p
	}
	for _, m := range c.Models {
		if m.Name == "" {
			t.catchAll[m.Pool] = m
			continue
		}
		t.models[m.Name] = m
	}
	return t
}

// New returns a Router over o.Catalog.
func New(o Options) *Router {
	r := &Router{
		adm:       o.Admission,
		observer:  o.Observer,
		now:       o.Now,
		rnd:       o.Rand,
		log:       o.Logger,
		decisions: o.Decisions,
	}
	r.table.Store(newTable(o.Catalog))
	if r.now == nil {
		r.now = time.Now
	}
	if r.rnd == nil {
		r.rnd = rand.Float64
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// SetCatalog replaces the pools, models and objectives. Requests already
// routed keep their decisions; later ones see c.
func (r *Router) SetCatalog(c Catalog) {
	r.table.Store(newTable(c))
}

// Route resolves the model, priority and target, applies the router's
// legacy admission and picks an endpoint: [Router.Prepare] then
// [Router.Pick], without flow control. The returned Decision is owned by
// the caller.
func (r *Router) Route(in Input) (*Decision, error) {
	d, err := r.Prepare(in)
	if err != nil {
		return d, err
	}
	return d, r.pick(d, in.Prompt, true)
}

// Prepare resolves the model, pool, priority and target of a request
// without picking an endpoint, so a front end can pass the request through
// the pool's flow control ([Decision.Flow]) before [Router.Pick]. The
// returned Decision is owned by the caller.
func (r *Router) Prepare(in Input) (*Decision, error) {
	d := &Decision{Model: in.Model, TraceID: in.TraceID}
	t := r.table.Load()
	var p Pool
	var target, objective string
	var err error
	if in.Pool != "" {
		p, target, objective, err = r.resolveIn(t, in.Model, in.Pool)
	} else {
		p, target, objective, err = r.resolve(t, in.Model)
	}
	if err != nil {
		return d, err
	}
	store := p.Store
	d.sched, d.Flow = p.Scheduler, p.Flow
	if in.ModelRewrite != "" {
		target = in.ModelRewrite
	}
	if in.Objective != "" {
		objective = in.Objective
	}
	d.Pool, d.TargetModel = store, target
	if objective != "" {
		p, ok := t.objectives[objective]
		if !ok {
			r.log.Debug("unknown objective; using priority 0", slog.String("objective", objective))
		}
		d.Priority = p
	}
	out := in.MaxTokens
	if out <= 0 {
		out = defaultOutputTokens
	}
	d.Tokens = int64(len(in.Prompt)/bytesPerToken + out)
	d.req = scheduler.Request{
		Model:           target,
		EstimatedTokens: d.Tokens,
		Priority:        d.Priority,
		Ranking:         in.Ranking,
	}
	d.allow = in.Allow
	return d, nil
}

// Pick picks an endpoint for a prepared decision, prompt being the
// request's prefix-affinity bytes (read during the call only). When the
// pool has no flow control the router's legacy admission applies first.
func (r *Router) Pick(d *Decision, prompt []byte) error {
	return r.pick(d, prompt, d.Flow == nil)
}

// pick applies the legacy admission when asked and picks d's first endpoint.
func (r *Router) pick(d *Decision, prompt []byte, admit bool) error {
	snap := d.Pool.Load()
	now := r.now()
	if admit && r.adm != nil {
		if err := r.adm.Admit(d.Priority, d.sched.Saturation(snap, now)); err != nil {
			return err
		}
	}
	d.req.Prompt = prompt
	d.req.Exclude = r.notServing(snap, d.TargetModel, nil)
	if d.allow != nil {
		d.req.Exclude = disallowed(snap, d.allow, d.req.Exclude)
	}
	return r.pickEndpoint(d, snap, now, false)
}

// Retry picks another endpoint for d, never one already tried. The caller
// must have released the previous endpoint.
func (r *Router) Retry(d *Decision, prompt []byte) error {
	if d.Endpoint != nil {
		d.req.Exclude = append(d.req.Exclude, d.Endpoint)
	}
	d.req.Prompt = prompt
	snap := d.Pool.Load()
	return r.pickEndpoint(d, snap, r.now(), true)
}

// pickEndpoint runs the scheduler for d and records the result.
func (r *Router) pickEndpoint(d *Decision, snap *pool.Snapshot, now time.Time, retry bool) error {
	start := time.Now()
	res, err := d.sched.Pick(&d.req, snap, now)
	elapsed := time.Since(start)
	d.req.Prompt = nil // the caller owns the bytes; don't keep them
	if err != nil {
		d.Endpoint = nil
		r.observe(d, elapsed, err)
		return err
	}
	d.Result, d.Endpoint = res, res.Endpoint
	d.sched.Commit(&d.req, res.Endpoint)
	r.observe(d, elapsed, nil)
	r.record(d, now, retry)
	return nil
}

// blockBytes is the prefix block size in bytes for ep, for the hit-bytes histogram.
func (r *Router) blockBytes(ep *pool.Endpoint) int {
	if m := ep.Metrics(); m != nil && m.BlockSize > 0 {
		return m.BlockSize * bytesPerToken
	}
	return scheduler.DefaultConfig().PrefixBlockTokens * bytesPerToken
}

// notServing lists endpoints that publish a model list without target, when
// at least one endpoint does list it; otherwise nil (LoRA adapters can be
// loaded on demand, and replicas that haven't answered /v1/models yet are
// given the benefit of the doubt).
func (r *Router) notServing(snap *pool.Snapshot, target string, buf []*pool.Endpoint) []*pool.Endpoint {
	eps := snap.Endpoints()
	anyServes := false
	for _, e := range eps {
		if e.ServesModel(target) {
			anyServes = true
			break
		}
	}
	if !anyServes {
		return buf
	}
	for _, e := range eps {
		if len(e.Models()) > 0 && !e.ServesModel(target) {
			buf = append(buf, e)
		}
	}
	return buf
}

// resolve finds the pool, the target model (after traffic splitting) and the
// default objective for a requested model: a named model first, then the
// pools whose replicas list it (with the pool's catch-all rewrite, if any),
// then the first pool with a catch-all.
func (r *Router) resolve(t *table, model string) (Pool, string, string, error) {
	if m, ok := t.models[model]; ok {
		if p, ok := t.byName[m.Pool]; ok {
			return p, r.split(m), m.Objective, nil
		}
		if m.Pool == "" && len(t.pools) > 0 {
			return t.pools[0], r.split(m), m.Objective, nil
		}
		return Pool{}, "", "", fmt.Errorf("resolve %q: pool %q: %w", model, m.Pool, ErrModelNotFound)
	}
	for _, p := range t.pools {
		for _, e := range p.Store.Load().Endpoints() {
			if e.ServesModel(model) {
				if m, ok := t.catchAll[p.Store.Name()]; ok {
					return p, r.split(m), m.Objective, nil
				}
				return p, model, "", nil
			}
		}
	}
	for _, p := range t.pools {
		if m, ok := t.catchAll[p.Store.Name()]; ok {
			return p, r.split(m), m.Objective, nil
		}
	}
	return Pool{}, "", "", fmt.Errorf("resolve %q: %w", model, ErrModelNotFound)
}

// resolveIn is [Router.resolve] restricted to the pool named poolName: a
// named model must belong to it, discovered models and the catch-all are
// looked up in it only. A pool missing from the catalog (not discovered
// yet, or gone) has no endpoint rather than no model.
func (r *Router) resolveIn(t *table, model, poolName string) (Pool, string, string, error) {
	p, ok := t.byName[poolName]
	if !ok {
		return Pool{}, "", "", fmt.Errorf("pool %q: %w", poolName, scheduler.ErrNoEndpoint)
	}
	if m, ok := t.models[model]; ok {
		if m.Pool == poolName || m.Pool == "" && len(t.pools) > 0 && t.pools[0].Store == p.Store {
			return p, r.split(m), m.Objective, nil
		}
		return Pool{}, "", "", fmt.Errorf("resolve %q in pool %q: served by pool %q: %w", model, poolName, m.Pool, ErrModelNotFound)
	}
	for _, e := range p.Store.Load().Endpoints() {
		if e.ServesModel(model) {
			if m, ok := t.catchAll[poolName]; ok {
				return p, r.split(m), m.Objective, nil
			}
			return p, model, "", nil
		}
	}
	if m, ok := t.catchAll[poolName]; ok {
		return p, r.split(m), m.Objective, nil
	}
	return Pool{}, "", "", fmt.Errorf("resolve %q in pool %q: %w", model, poolName, ErrModelNotFound)
}

// disallowed appends to buf the endpoints of snap that allow rejects and
// are not in buf yet.
func disallowed(snap *pool.Snapshot, allow func(*pool.Endpoint) bool, buf []*pool.Endpoint) []*pool.Endpoint {
	for _, e := range snap.Endpoints() {
		if !allow(e) && !slices.Contains(buf, e) {
			buf = append(buf, e)
		}
	}
	return buf
}

// split picks a target model by weight.
func (r *Router) split(m Model) string {
	switch len(m.Targets) {
	case 0:
		return m.Name
	case 1:
		return m.Targets[0].Model
	}
	total := 0
	for _, t := range m.Targets {
		total += max(t.Weight, 1)
	}
	x := r.rnd() * float64(total)
	for _, t := range m.Targets {
		x -= float64(max(t.Weight, 1))
		if x < 0 {
			return t.Model
		}
	}
	return m.Targets[len(m.Targets)-1].Model
}

// Models returns the sorted union of configured model names and the models
// the replicas list. The union is cached for one second (and recomputed at
// once when the catalog changes).
func (r *Router) Models() []string {
	now := r.now()
	t := r.table.Load()
	r.catalogMu.Lock()
	defer r.catalogMu.Unlock()
	if r.catalog != nil && r.catalogOf == t && now.Sub(r.catalogAt) < time.Second {
		return r.catalog
	}
	seen := make(map[string]struct{}, len(t.models))
	for name := range t.models {
		seen[name] = struct{}{}
	}
	for _, p := range t.pools {
		for _, e := range p.Store.Load().Endpoints() {
			for _, m := range e.Models() {
				seen[m] = struct{}{}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	r.catalog, r.catalogAt, r.catalogOf = out, now, t
	return out
}

// HasModel reports whether model would resolve.
func (r *Router) HasModel(model string) bool {
	_, _, _, err := r.resolve(r.table.Load(), model)
	return err == nil
}

// portOf returns the port of a host:port address, "" when there is none.
func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
