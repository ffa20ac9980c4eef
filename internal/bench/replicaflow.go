package bench

import (
	"container/heap"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// ReplicaFlowMode says how the gateway replicas of a [ReplicaFlowConfig]
// share flow-control state.
type ReplicaFlowMode int

const (
	// FlowGlobal is the reference: one queue for the whole pool, strict
	// priority between bands and round-robin among tenants within a band
	// (the tenant served least recently goes next).
	FlowGlobal ReplicaFlowMode = iota
	// FlowLocal is today's upstream and infergate: each replica queues
	// only the requests the load balancer sent it, and whichever replica
	// sees a free slot first dispatches its own best request.
	FlowLocal
	// FlowShared is the design in docs/active-active-flow-control.md: every
	// replica publishes its queue depth per band and tenant and when it last
	// served each tenant, every SyncInterval; a replica dispatches only when
	// no replica (as last published) holds a higher band or, in its band, a
	// tenant served less recently pool-wide than the one it would serve. A
	// view older than ViewTTL is ignored.
	FlowShared
)

// String returns the mode's name as the report prints it.
func (m ReplicaFlowMode) String() string {
	switch m {
	case FlowGlobal:
		return "global queue"
	case FlowLocal:
		return "per-replica"
	case FlowShared:
		return "shared state"
	}
	return "unknown"
}

// ReplicaFlowBand is one priority band of the model's traffic.
type ReplicaFlowBand struct {
	// Priority orders bands: higher is served first.
	Priority int
	// Share is the band's fraction of arrivals.
	Share float64
}

// ReplicaFlowConfig describes one run of the discrete-event model of flow
// control across active-active gateway replicas: requests arrive (Poisson,
// seeded) at a random replica, wait in that replica's queues while the
// pool's Slots are all busy, and hold a slot for an exponential service
// time. The offered load alternates between Overload and Underload times the
// pool's capacity every Period/2 seconds, so queues build and drain.
type ReplicaFlowConfig struct {
	Mode     ReplicaFlowMode
	Replicas int
	// SyncInterval is how often each replica publishes and reads the
	// shared state (FlowShared), in seconds; replicas are out of phase.
	SyncInterval float64
	// ViewTTL is the age after which a replica ignores another's published
	// state (a partitioned or dead replica); 0 means 3 × SyncInterval.
	ViewTTL float64
	// PartitionAt, when positive, cuts replica 0 off the shared store at
	// that time: it neither publishes nor reads from then on.
	PartitionAt float64
	Slots       int
	// ServiceMean is the mean time a request holds a slot, in seconds.
	ServiceMean         float64
	Overload, Underload float64
	Period              float64
	// Duration is the simulated time of arrivals, in seconds; queued work
	// left at the end is drained.
	Duration float64
	// TTL is how long a request may wait before it expires, in seconds.
	TTL   float64
	Bands []ReplicaFlowBand
	// Tenants are the fairness IDs' relative arrival rates.
	Tenants []float64
	Seed    uint64
}

// ReplicaFlowResult is what one run measured.
type ReplicaFlowResult struct {
	Config     ReplicaFlowConfig
	Arrived    int
	Dispatched int
	Expired    int
	// OutOfOrder is the share of dispatches made while a request of a
	// higher band was queued somewhere in the pool.
	OutOfOrder float64
	// OutOfFairOrder is the share of dispatches, among those made while
	// two or more tenants of the band were queued, that served a tenant
	// while another queued tenant had been served less recently pool-wide
	// (round-robin's order).
	OutOfFairOrder float64
	// TenantShare[b][t] is tenant t's share of band b's dispatches made
	// while the band was backlogged (two or more tenants queued), the
	// moments fairness decides.
	TenantShare [][]float64
	// WaitP99 is the 99th percentile queue wait per band, in seconds,
	// expired requests counted at their TTL.
	WaitP99 []float64
	// IdleSlotShare is the share of slot-time left idle while requests
	// were queued (the price of waiting for a fresher view).
	IdleSlotShare float64
}

// FairnessError is the total variation distance between r's tenant shares
// and ref's, the largest over bands: 0 when every band's backlogged
// dispatches split between tenants exactly as in ref.
func (r ReplicaFlowResult) FairnessError(ref ReplicaFlowResult) float64 {
	worst := 0.0
	for b := range r.TenantShare {
		d := 0.0
		for t := range r.TenantShare[b] {
			d += math.Abs(r.TenantShare[b][t] - ref.TenantShare[b][t])
		}
		worst = max(worst, d/2)
	}
	return worst
}

// flowArrival is one request of the seeded sequence all modes replay.
type flowArrival struct {
	at, service  float64
	band, tenant int
	replica      int
}

// flowReplica is one gateway replica's queues and view of the others.
type flowReplica struct {
	q [][][]int // [band][tenant] FIFO of arrival indexes
	// queued is the replica's live queue depth per band.
	queued []int
	// view is the last published state of every replica as this replica
	// read it: queue depth per band and tenant, and when it was published.
	view   [][][]int
	viewAt []float64
	// last[b][t] is when tenant t of band b was last served, pool-wide as
	// last read from the store (FlowShared) and by this replica since.
	last [][]float64
}

// ErrReplicaFlowConfig reports an unusable model configuration.
var ErrReplicaFlowConfig = errors.New("replica flow model: invalid configuration")

// RunReplicaFlow runs the model once.
func RunReplicaFlow(c ReplicaFlowConfig) (ReplicaFlowResult, error) {
	if c.Replicas < 1 || c.Slots < 1 || c.ServiceMean <= 0 || c.Duration <= 0 || c.Period <= 0 ||
		len(c.Bands) == 0 || len(c.Tenants) == 0 || (c.Mode == FlowShared && c.SyncInterval <= 0) {
		return ReplicaFlowResult{}, ErrReplicaFlowConfig
	}
	if c.Mode == FlowGlobal {
		c.Replicas = 1
	}
	if c.ViewTTL <= 0 {
		c.ViewTTL = 3 * c.SyncInterval
	}
	if c.TTL <= 0 {
		c.TTL = math.Inf(1)
	}
	arr := flowArrivals(c)
	m := newFlowModel(c, arr)
	m.run()
	return m.result(), nil
}

// flowArrivals draws the request sequence from the seed alone, so every
// mode and replica count replays the same requests at the same times (the
// replica draw uses its own stream).
func flowArrivals(c ReplicaFlowConfig) []flowArrival {
	rng := rand.New(rand.NewPCG(c.Seed, 1))
	lb := rand.New(rand.NewPCG(c.Seed, 2))
	capacity := float64(c.Slots) / c.ServiceMean
	var out []flowArrival
	for t := 0.0; ; {
		load := c.Overload
		if math.Mod(t, c.Period) >= c.Period/2 {
			load = c.Underload
		}
		t += rng.ExpFloat64() / (capacity * load)
		if t >= c.Duration {
			return out
		}
		out = append(out, flowArrival{
			at:      t,
			service: rng.ExpFloat64() * c.ServiceMean,
			band:    pickWeighted(rng, len(c.Bands), func(i int) float64 { return c.Bands[i].Share }),
			tenant:  pickWeighted(rng, len(c.Tenants), func(i int) float64 { return c.Tenants[i] }),
			replica: lb.IntN(max(c.Replicas, 1)),
		})
	}
}

// pickWeighted draws an index in [0,n) with probability proportional to w.
func pickWeighted(rng *rand.Rand, n int, w func(int) float64) int {
	total := 0.0
	for i := range n {
		total += w(i)
	}
	x := rng.Float64() * total
	for i := range n {
		if x -= w(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// flowModel is the state of one run.
type flowModel struct {
	c         ReplicaFlowConfig
	arr       []flowArrival
	reps      []*flowReplica
	order     []int // bands sorted by priority, highest first
	rng       *rand.Rand
	now       float64
	busy      completions
	free      int
	queued    []int       // pool-wide queue depth per band (the truth)
	last      [][]float64 // when each band's tenant was last served, pool-wide
	backlog   [][]int     // dispatches per band and tenant while backlogged
	waits     [][]float64
	out       int
	unfair    int // backlogged dispatches that skipped a tenant served less recently
	fairTotal int
	disp      int
	expired   int
	idle      float64 // slot-seconds idle while work was queued
	nextSync  []float64
}

func newFlowModel(c ReplicaFlowConfig, arr []flowArrival) *flowModel {
	m := &flowModel{c: c, arr: arr, free: c.Slots, rng: rand.New(rand.NewPCG(c.Seed, 3))}
	nb, nt := len(c.Bands), len(c.Tenants)
	m.order = make([]int, nb)
	for i := range m.order {
		m.order[i] = i
	}
	slices.SortStableFunc(m.order, func(a, b int) int { return c.Bands[b].Priority - c.Bands[a].Priority })
	m.queued = make([]int, nb)
	m.last = fgrid(nb, nt)
	m.backlog = grid(nb, nt)
	m.waits = make([][]float64, nb)
	for range c.Replicas {
		r := &flowReplica{queued: make([]int, nb), last: fgrid(nb, nt),
			view: make([][][]int, c.Replicas), viewAt: make([]float64, c.Replicas)}
		for j := range r.view {
			r.view[j] = grid(nb, nt)
		}
		r.q = make([][][]int, nb)
		for b := range r.q {
			r.q[b] = make([][]int, nt)
		}
		m.reps = append(m.reps, r)
	}
	if c.Mode == FlowShared {
		for i := range c.Replicas {
			// Out of phase, as independent processes are.
			m.nextSync = append(m.nextSync, c.SyncInterval*float64(i+1)/float64(c.Replicas))
		}
	}
	return m
}

func fgrid(a, b int) [][]float64 {
	g := make([][]float64, a)
	for i := range g {
		g[i] = make([]float64, b)
		for j := range g[i] {
			g[i][j] = math.Inf(-1)
		}
	}
	return g
}

func grid(a, b int) [][]int {
	g := make([][]int, a)
	for i := range g {
		g[i] = make([]int, b)
	}
	return g
}

// run processes arrivals, completions and syncs in time order until every
// request is dispatched or expired.
func (m *flowModel) run() {
	next := 0
	for {
		tArr, tDone, tSync := math.Inf(1), math.Inf(1), math.Inf(1)
		if next < len(m.arr) {
			tArr = m.arr[next].at
		}
		if m.busy.Len() > 0 {
			tDone = m.busy[0]
		}
		syncer := -1
		for i, t := range m.nextSync {
			if t < tSync {
				tSync, syncer = t, i
			}
		}
		waiting := m.total() > 0
		if next == len(m.arr) && !waiting {
			return
		}
		if math.IsInf(tDone, 1) && math.IsInf(tArr, 1) && !waiting {
			return
		}
		t := min(tArr, tDone, tSync)
		if tExp := m.nextExpiry(); tExp < t {
			t = tExp
		}
		if waiting {
			m.idle += float64(m.free) * (t - m.now)
		}
		m.now = t
		m.expire()
		switch {
		case t == tDone:
			heap.Pop(&m.busy)
			m.free++
		case t == tArr:
			a := &m.arr[next]
			r := m.reps[a.replica]
			r.q[a.band][a.tenant] = append(r.q[a.band][a.tenant], next)
			r.queued[a.band]++
			m.queued[a.band]++
			next++
		case t == tSync:
			m.sync(syncer)
			m.nextSync[syncer] += m.c.SyncInterval
			if next == len(m.arr) && m.total() == 0 {
				m.nextSync = nil
			}
		}
		m.dispatch()
	}
}

func (m *flowModel) total() int {
	n := 0
	for _, q := range m.queued {
		n += q
	}
	return n
}

// nextExpiry is when the oldest queued request expires.
func (m *flowModel) nextExpiry() float64 {
	t := math.Inf(1)
	if math.IsInf(m.c.TTL, 1) {
		return t
	}
	for _, r := range m.reps {
		for b := range r.q {
			for _, q := range r.q[b] {
				if len(q) > 0 {
					t = min(t, m.arr[q[0]].at+m.c.TTL)
				}
			}
		}
	}
	return t
}

// expire drops requests queued for TTL or longer.
func (m *flowModel) expire() {
	for _, r := range m.reps {
		for b := range r.q {
			for t, q := range r.q[b] {
				for len(q) > 0 && m.arr[q[0]].at+m.c.TTL <= m.now {
					m.waits[b] = append(m.waits[b], m.c.TTL)
					q = q[1:]
					r.queued[b]--
					m.queued[b]--
					m.expired++
				}
				r.q[b][t] = q
			}
		}
	}
}

// sync publishes replica i's queue depths and reads everyone's state, as a
// round trip to the shared store does. A partitioned replica does neither.
func (m *flowModel) sync(i int) {
	if m.c.PartitionAt > 0 && i == 0 && m.now >= m.c.PartitionAt {
		return
	}
	me := m.reps[i]
	for _, r := range m.reps {
		for b := range me.q {
			for t, q := range me.q[b] {
				r.view[i][b][t] = len(q)
			}
		}
		r.viewAt[i] = m.now
	}
	for b := range me.last {
		for t, at := range m.last[b] {
			me.last[b][t] = max(me.last[b][t], at)
		}
	}
}

// dispatch fills free slots.
func (m *flowModel) dispatch() {
	for m.free > 0 && m.total() > 0 {
		r := m.chooseReplica()
		if r == nil {
			return
		}
		b := m.topBand(r.queued)
		t := r.chooseTenant(b)
		idx := r.q[b][t][0]
		r.q[b][t] = r.q[b][t][1:]
		if m.higherQueued(b) {
			m.out++
		}
		if m.backloggedTenants(b) >= 2 {
			m.backlog[b][t]++
			m.fairTotal++
			if m.lessRecentlyServedQueued(b, t) {
				m.unfair++
			}
		}
		r.queued[b]--
		m.queued[b]--
		m.last[b][t] = m.now
		r.last[b][t] = m.now
		m.disp++
		a := &m.arr[idx]
		m.waits[b] = append(m.waits[b], m.now-a.at)
		m.free--
		heap.Push(&m.busy, m.now+a.service)
	}
}

// chooseReplica returns the replica that takes a free slot, or nil when
// every replica with work defers to a higher band it believes is queued
// elsewhere.
func (m *flowModel) chooseReplica() *flowReplica {
	perm := m.rng.Perm(len(m.reps))
	for _, i := range perm {
		r := m.reps[i]
		b := m.topBand(r.queued)
		if b < 0 {
			continue
		}
		if m.c.Mode != FlowShared || m.eligible(i, b, r.chooseTenant(b)) {
			return r
		}
	}
	return nil
}

// eligible reports whether replica i, whose best queued request is tenant
// mine's in band b, may dispatch it: no other replica's fresh published state
// shows a higher band queued, or a tenant of band b served less recently. A
// partitioned replica decides alone.
func (m *flowModel) eligible(i, b, mine int) bool {
	if m.c.PartitionAt > 0 && i == 0 && m.now >= m.c.PartitionAt {
		return true
	}
	r := m.reps[i]
	for j := range m.reps {
		if j == i || m.now-r.viewAt[j] > m.c.ViewTTL {
			continue
		}
		for _, hb := range m.order {
			if hb == b {
				break
			}
			if slices.ContainsFunc(r.view[j][hb], func(n int) bool { return n > 0 }) {
				return false
			}
		}
		for t, n := range r.view[j][b] {
			if n > 0 && r.last[b][t] < r.last[b][mine] {
				return false
			}
		}
	}
	return true
}

// topBand is the highest band with queued work in q, -1 when none.
func (m *flowModel) topBand(q []int) int {
	for _, b := range m.order {
		if q[b] > 0 {
			return b
		}
	}
	return -1
}

// higherQueued reports whether a band above b has queued work anywhere.
func (m *flowModel) higherQueued(b int) bool {
	for _, hb := range m.order {
		if hb == b {
			return false
		}
		if m.queued[hb] > 0 {
			return true
		}
	}
	return false
}

// lessRecentlyServedQueued reports whether a tenant of band b served less
// recently than t (pool-wide) has work queued anywhere.
func (m *flowModel) lessRecentlyServedQueued(b, t int) bool {
	for u := range m.c.Tenants {
		if u == t || m.last[b][u] >= m.last[b][t] {
			continue
		}
		for _, r := range m.reps {
			if len(r.q[b][u]) > 0 {
				return true
			}
		}
	}
	return false
}

// backloggedTenants counts tenants with band-b work queued pool-wide.
func (m *flowModel) backloggedTenants(b int) int {
	n := 0
	for t := range m.c.Tenants {
		for _, r := range m.reps {
			if len(r.q[b][t]) > 0 {
				n++
				break
			}
		}
	}
	return n
}

// chooseTenant picks which tenant of band b replica r serves: the one of
// its queued tenants served least recently, by its own dispatches (round-robin
// among its tenants) or, with shared state, pool-wide as last read.
func (r *flowReplica) chooseTenant(b int) int {
	best := -1
	for t, q := range r.q[b] {
		if len(q) > 0 && (best < 0 || r.last[b][t] < r.last[b][best]) {
			best = t
		}
	}
	return best
}

func (m *flowModel) result() ReplicaFlowResult {
	res := ReplicaFlowResult{Config: m.c, Arrived: len(m.arr), Dispatched: m.disp, Expired: m.expired}
	if m.disp > 0 {
		res.OutOfOrder = float64(m.out) / float64(m.disp)
	}
	if m.fairTotal > 0 {
		res.OutOfFairOrder = float64(m.unfair) / float64(m.fairTotal)
	}
	for b := range m.backlog {
		share := make([]float64, len(m.c.Tenants))
		total := 0
		for _, n := range m.backlog[b] {
			total += n
		}
		for t, n := range m.backlog[b] {
			if total > 0 {
				share[t] = float64(n) / float64(total)
			}
		}
		res.TenantShare = append(res.TenantShare, share)
		w := m.waits[b]
		slices.Sort(w)
		p := 0.0
		if len(w) > 0 {
			p = w[min(len(w)-1, int(math.Ceil(0.99*float64(len(w))))-1)]
		}
		res.WaitP99 = append(res.WaitP99, p)
	}
	if m.now > 0 {
		res.IdleSlotShare = m.idle / (m.now * float64(m.c.Slots))
	}
	return res
}

// completions is a min-heap of slot release times.
type completions []float64

func (h completions) Len() int           { return len(h) }
func (h completions) Less(i, j int) bool { return h[i] < h[j] }
func (h completions) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *completions) Push(x any) { *h = append(*h, x.(float64)) }

// Pop implements heap.Interface.
func (h *completions) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
