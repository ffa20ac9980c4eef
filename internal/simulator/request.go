package simulator

import (
	"sync"
	"time"
)

// Finish reasons reported in responses and in vllm:request_success_total.
const (
	finishStop   = "stop"
	finishLength = "length"
	finishAbort  = "abort"
)

// reqState is where a request is in the engine.
type reqState uint8

const (
	stateQueued   reqState = iota // submitted, not yet seen by the engine
	stateWaiting                  // in the waiting queue
	stateRunning                  // in the running batch
	stateFinished                 // done, aborted or dropped at stop
)

// request is one completion inside the engine. The fields in the first
// group are set by the HTTP handler before [engine.submit] and read-only
// afterwards; the second group belongs to the engine goroutine; progress is
// shared under mu and announced on notify.
type request struct {
	adapter   string // "" for the base model
	prompt    prompt
	maxTokens int
	// finishReason is reported when maxTokens tokens have been generated.
	finishReason string
	submitted    time.Time
	// notify has capacity 1: the engine never blocks on a slow client, and
	// the handler reads the latest progress when it wakes up.
	notify chan struct{}

	// Engine-owned.
	state        reqState
	hashes       []uint64 // prompt block hashes, then output block hashes as they fill
	numTokens    int      // prompt tokens + generated tokens
	computed     int      // tokens whose keys and values are in the cache
	blocks       []int32  // KV blocks held, in sequence order
	hashedBlocks int      // leading blocks registered in the prefix cache
	admitted     bool     // scheduled at least once
	cached       int      // prompt tokens found in the prefix cache at first scheduling
	preemptions  int
	arrival      time.Duration // model time
	scheduled    time.Duration // first scheduling, model time
	firstToken   time.Duration
	lastToken    time.Duration

	mu       sync.Mutex
	progress progress
}

// progress is what the handler needs to answer the client.
type progress struct {
	generated    int
	cachedTokens int
	finished     bool
	reason       string
	// stopped is set when the engine stopped before the request finished.
	stopped bool
}

// newRequest returns a request ready for [engine.submit].
func newRequest(adapter string, p prompt, maxTokens int, finishReason string) *request {
	return &request{
		adapter:      adapter,
		prompt:       p,
		maxTokens:    maxTokens,
		finishReason: finishReason,
		notify:       make(chan struct{}, 1),
		hashes:       p.hashes[:len(p.hashes):len(p.hashes)],
		numTokens:    p.tokens,
	}
}

// snapshot returns the current progress.
func (r *request) snapshot() progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.progress
}

// publish records that g tokens exist (and whether the request is done) and
// wakes the handler.
func (r *request) publish(g int, done bool) {
	r.mu.Lock()
	r.progress.generated = g
	if done {
		r.progress.finished = true
		r.progress.reason = r.finishReason
	}
	r.mu.Unlock()
	r.wakeHandler()
}

// wakeHandler signals the handler without blocking.
func (r *request) wakeHandler() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// generated returns the number of output tokens produced so far.
func (r *request) generated() int { return r.numTokens - r.prompt.tokens }

// blockHash returns the hash of block k, computing and remembering the
// hashes of output blocks on demand. Block k's tokens must all be known.
func (r *request) blockHash(k, blockSize int, scratch []byte) (uint64, []byte) {
	for len(r.hashes) <= k {
		prev := r.prompt.salt
		if n := len(r.hashes); n > 0 {
			prev = r.hashes[n-1]
		}
		scratch = r.prompt.appendBlockBytes(scratch[:0], len(r.hashes), blockSize)
		r.hashes = append(r.hashes, chainHash(prev, scratch))
	}
	return r.hashes[k], scratch
}
