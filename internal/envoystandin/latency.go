package envoystandin

import (
	"sync"
	"time"
)

// chunkLatency measures the delay the picker's response path adds: each
// response chunk's send time against the moment the picker's streamed bytes
// reach the end of that chunk. The picker may re-chunk or rewrite the body,
// so this is an estimate by byte offset; at end of stream every chunk not yet
// covered is closed.
type chunkLatency struct {
	mu      sync.Mutex
	pending []sentChunk
	sentEnd int64
	backEnd int64
	chunks  int
}

// sentChunk is a response chunk's end offset and send time.
type sentChunk struct {
	end int64
	at  time.Time
}

// sent records a chunk of n bytes sent at at.
func (c *chunkLatency) sent(n int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sentEnd += int64(n)
	c.pending = append(c.pending, sentChunk{c.sentEnd, at})
	c.chunks++
}

// received accounts n bytes received from the picker at at into res.
func (c *chunkLatency) received(n int64, at time.Time, res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.backEnd += n
	i := 0
	for ; i < len(c.pending) && c.pending[i].end <= c.backEnd; i++ {
		observe(res, at.Sub(c.pending[i].at))
	}
	c.pending = c.pending[i:]
}

// finish closes every chunk still pending at at.
func (c *chunkLatency) finish(at time.Time, res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pending {
		observe(res, at.Sub(p.at))
	}
	c.pending = nil
}

// count returns how many chunks were sent.
func (c *chunkLatency) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chunks
}

// observe adds one chunk delay to res.
func observe(res *Result, d time.Duration) {
	d = max(d, 0)
	res.ResponseChunkDelay += d
	res.ResponseChunkDelayMax = max(res.ResponseChunkDelayMax, d)
}
