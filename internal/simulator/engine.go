package simulator

import (
	"context"
	"slices"
	"sync"
	"time"
)

// maxLag is how far (wall time) the engine may fall behind its schedule
// before it stops trying to catch up: a slow host then stretches wall time
// instead of compressing later steps.
const maxLag = 50 * time.Millisecond

// maxWaitingScan bounds how many waiting requests one step skips over
// (requests whose adapter cannot get a slot), keeping a step O(batch).
const maxWaitingScan = 1024

// engine is the simulated inference engine: a continuous-batching scheduler
// over a paged KV cache with prefix caching, LoRA slots and recompute
// preemption, driven by one goroutine ([engine.run]) that advances a model
// clock step by step and sleeps each step's duration divided by the time
// scale.
//
// submit and abort are safe for concurrent use; everything else belongs to
// the goroutine running run (or to a test driving drain, schedule and
// finishStep directly).
type engine struct {
	profile   Profile
	timeScale float64
	rec       recorder

	mu      sync.Mutex
	inbox   []*request
	aborts  []*request
	closed  bool
	wake    chan struct{} // capacity 1
	stopped chan struct{} // closed when run has returned

	// Engine goroutine state.
	now             time.Duration // model clock
	stepStart       time.Duration
	wallBase        time.Time // wall time at which the model clock read modelBase
	modelBase       time.Duration
	waiting         []*request
	running         []*request
	batch           []scheduledSeq
	loraLoads       int
	kv              *kvCache
	loras           *loraSlots
	waitingAdapters map[string]int
	adaptersDirty   bool
	spareInbox      []*request
	spareAborts     []*request
}

// scheduledSeq is one request's share of a step: n tokens to compute.
type scheduledSeq struct {
	r *request
	n int
}

// newEngine returns a stopped engine; start it with run.
func newEngine(p Profile, preloaded []string, timeScale float64, rec recorder) *engine {
	return &engine{
		profile:         p,
		timeScale:       timeScale,
		rec:             rec,
		wake:            make(chan struct{}, 1),
		stopped:         make(chan struct{}),
		kv:              newKVCache(p.NumGPUBlocks, p.BlockSize),
		loras:           newLoRASlots(p.MaxLoRAs, preloaded),
		waitingAdapters: make(map[string]int),
		adaptersDirty:   true,
	}
}

// submit queues r. It returns false when the engine has stopped.
func (e *engine) submit(r *request) bool {
	r.submitted = time.Now()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.inbox = append(e.inbox, r)
	e.mu.Unlock()
	e.signal()
	return true
}

// abort asks the engine to drop r (the client went away) and free what it
// holds. Aborting a finished request does nothing.
func (e *engine) abort(r *request) {
	e.mu.Lock()
	if !e.closed {
		e.aborts = append(e.aborts, r)
	}
	e.mu.Unlock()
	e.signal()
}

func (e *engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run drives the engine until ctx is done, then fails the requests still in
// it and closes e.stopped.
func (e *engine) run(ctx context.Context) {
	defer e.shutdown()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	e.rebase(time.Now())
	for {
		e.drain()
		d := e.schedule()
		if len(e.batch) == 0 {
			e.publishState()
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
			}
			e.rebase(time.Now())
			continue
		}
		e.stepStart = e.now
		end := e.now + d
		wait := time.Until(e.wallBase.Add(e.wallDuration(end - e.modelBase)))
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		e.finishStep(end)
		if wait < -maxLag {
			e.rebase(time.Now())
		}
		e.publishState()
	}
}

// rebase ties the model clock's current reading to wall time now.
func (e *engine) rebase(now time.Time) {
	e.wallBase, e.modelBase, e.stepStart = now, e.now, e.now
}

// wallDuration converts model time to wall time.
func (e *engine) wallDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / e.timeScale)
}

// arrivalTime maps a wall-clock submission time to model time, within the
// step during which it happened.
func (e *engine) arrivalTime(wall time.Time) time.Duration {
	m := float64(e.modelBase) + float64(wall.Sub(e.wallBase))*e.timeScale
	m = min(max(m, float64(e.stepStart)), float64(e.now))
	return time.Duration(m)
}

// drain moves submitted requests to the waiting queue and drops aborted ones.
func (e *engine) drain() {
	e.mu.Lock()
	inbox, aborts := e.inbox, e.aborts
	e.inbox, e.aborts = e.spareInbox[:0], e.spareAborts[:0]
	e.mu.Unlock()
	for _, r := range inbox {
		r.state = stateWaiting
		r.arrival = e.arrivalTime(r.submitted)
		e.waiting = append(e.waiting, r)
		e.addWaitingAdapter(r, 1)
	}
	for _, r := range aborts {
		e.drop(r)
	}
	clear(inbox)
	clear(aborts)
	e.spareInbox, e.spareAborts = inbox[:0], aborts[:0]
}

// drop removes an aborted request and frees what it holds.
func (e *engine) drop(r *request) {
	switch r.state {
	case stateWaiting:
		if i := slices.Index(e.waiting, r); i >= 0 {
			e.waiting = slices.Delete(e.waiting, i, i+1)
		}
		e.addWaitingAdapter(r, -1)
	case stateRunning:
		if i := slices.Index(e.running, r); i >= 0 {
			e.running = slices.Delete(e.running, i, i+1)
		}
		e.releaseRunning(r)
	default:
		return
	}
	r.state = stateFinished
	e.rec.finished(r, finishAbort)
}

func (e *engine) addWaitingAdapter(r *request, delta int) {
	if r.adapter == "" {
		return
	}
	e.waitingAdapters[r.adapter] += delta
	if e.waitingAdapters[r.adapter] <= 0 {
		delete(e.waitingAdapters, r.adapter)
	}
	e.adaptersDirty = true
}

func (e *engine) releaseRunning(r *request) {
	e.kv.release(r)
	if r.adapter != "" {
		e.loras.release(r.adapter)
		e.adaptersDirty = true
	}
}

// schedule picks the next step's batch into e.batch and returns the step's
// model duration (0 when there is nothing to run). Running requests go
// first, each getting the tokens it needs (one when decoding, a chunk when
// prefilling) within the step's token budget; when the KV cache is full the
// newest running request is preempted. Waiting requests are then admitted
// in arrival order while sequences, budget, blocks and adapter slots last.
func (e *engine) schedule() time.Duration {
	e.batch = e.batch[:0]
	e.loraLoads = 0
	budget := e.profile.MaxNumBatchedTokens
	preempted := false
	for i := 0; i < len(e.running) && budget > 0; i++ {
		r := e.running[i]
		n := min(r.numTokens-r.computed, budget)
		for !e.kv.allocate(r, 0, r.computed+n) {
			victim := e.running[len(e.running)-1]
			e.running = e.running[:len(e.running)-1]
			e.preempt(victim)
			preempted = true
			if victim == r {
				n = 0
				break
			}
		}
		if n == 0 {
			break
		}
		e.batch = append(e.batch, scheduledSeq{r: r, n: n})
		budget -= n
	}
	if !preempted {
		e.admit(budget)
	}
	if len(e.batch) == 0 {
		return 0
	}
	prefill, decode, context := 0, 0, 0
	for _, s := range e.batch {
		if s.n == 1 && s.r.generated() > 0 {
			decode++
			context += s.r.computed
		} else {
			prefill += s.n
		}
	}
	return e.profile.stepDuration(prefill, decode, context, e.loraLoads)
}

// admit moves waiting requests into the batch (first come, first served; a
// request whose adapter cannot get a slot is skipped, a request that does
// not fit in the KV cache stops admission).
func (e *engine) admit(budget int) {
	bs := e.profile.BlockSize
	w := e.waiting
	kept, skipped, i := 0, 0, 0
	for ; i < len(w) && budget > 0 && len(e.running) < e.profile.MaxNumSeqs; i++ {
		r := w[i]
		if r.adapter != "" && !e.loras.canAcquire(r.adapter) {
			w[kept] = r
			kept++
			skipped++
			if skipped >= maxWaitingScan {
				i++
				break
			}
			continue
		}
		// At least one token is always computed, so a fully cached prompt
		// still has its last block recomputed.
		hitBlocks := e.kv.cachedBlocks(r.hashes[:min(len(r.hashes), (r.numTokens-1)/bs)])
		hit := hitBlocks * bs
		n := min(r.numTokens-hit, budget)
		if !e.kv.allocate(r, hitBlocks, hit+n) {
			break
		}
		if r.adapter != "" {
			if e.loras.acquire(r.adapter) {
				e.loraLoads++
			}
			e.addWaitingAdapter(r, -1)
		}
		r.computed = hit
		r.state = stateRunning
		e.running = append(e.running, r)
		e.batch = append(e.batch, scheduledSeq{r: r, n: n})
		budget -= n
		if !r.admitted {
			r.admitted = true
			r.cached = hit
			r.scheduled = e.now
			e.rec.admitted(r, hit)
			r.mu.Lock()
			r.progress.cachedTokens = hit
			r.mu.Unlock()
		}
	}
	if kept == 0 {
		clear(w[:i])
		e.waiting = w[i:]
		return
	}
	n := copy(w[kept:], w[i:])
	clear(w[kept+n:])
	e.waiting = w[:kept+n]
}

// preempt evicts a running request back to the head of the waiting queue,
// freeing its blocks (recompute preemption: its tokens will be computed
// again, mostly from the prefix cache if its blocks survive).
func (e *engine) preempt(r *request) {
	e.releaseRunning(r)
	r.computed = 0
	r.state = stateWaiting
	r.preemptions++
	e.waiting = slices.Insert(e.waiting, 0, r)
	e.addWaitingAdapter(r, 1)
	e.rec.preempted()
}

// finishStep applies the step scheduled by schedule, which ended at model
// time end: computed tokens enter the cache, requests whose tokens are all
// computed produce their next token, and finished requests leave.
func (e *engine) finishStep(end time.Duration) {
	e.now = end
	finished := false
	for _, s := range e.batch {
		r := s.r
		r.computed += s.n
		e.kv.commit(r)
		if r.computed < r.numTokens {
			continue // prefill chunk
		}
		r.numTokens++
		g := r.generated()
		if g == 1 {
			r.firstToken = end
			e.rec.firstToken(r)
		} else {
			e.rec.nextToken(end - r.lastToken)
		}
		r.lastToken = end
		done := g >= r.maxTokens
		if done {
			// Recorded before the client hears of it, so a scrape that
			// follows the response counts the request.
			e.releaseRunning(r)
			r.state = stateFinished
			e.rec.finished(r, r.finishReason)
			finished = true
		}
		r.publish(g, done)
	}
	clear(e.batch)
	e.batch = e.batch[:0]
	if finished {
		e.running = slices.DeleteFunc(e.running, func(r *request) bool { return r.state != stateRunning })
	}
}

// publishState reports the current load to the recorder.
func (e *engine) publishState() {
	s := engineState{
		running:    len(e.running),
		waiting:    len(e.waiting),
		usedBlocks: e.kv.usedBlocks(),
	}
	if e.adaptersDirty {
		e.adaptersDirty = false
		s.runningAdapters = e.loras.runningList()
		s.waitingAdapters = joinSorted(e.waitingAdapters)
		s.adaptersChanged = true
	}
	e.rec.state(s)
}

// shutdown fails every request still in the engine and marks it stopped.
func (e *engine) shutdown() {
	e.mu.Lock()
	e.closed = true
	inbox := e.inbox
	e.inbox, e.aborts = nil, nil
	e.mu.Unlock()
	for _, list := range [][]*request{inbox, e.waiting, e.running} {
		for _, r := range list {
			r.state = stateFinished
			r.mu.Lock()
			r.progress.stopped = true
			r.mu.Unlock()
			r.wakeHandler()
		}
	}
	e.waiting, e.running = nil, nil
	close(e.stopped)
}
