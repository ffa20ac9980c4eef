// Package prefix approximates which model-server replicas hold which prompt
// prefixes in their KV cache, without asking them.
//
// [AppendHashes] cuts a prompt into fixed-size byte blocks and chains their
// xxhash64 values, so a block hash identifies the whole prefix up to and
// including that block. An [Index] remembers, per endpoint, the block hashes
// of the requests the gateway sent there, bounded by a per-endpoint LRU that
// stands in for the engine's own cache eviction. [Index.Match] then reports,
// per candidate endpoint, how many leading blocks of a new prompt that
// endpoint is likely to have cached.
//
// The index learns only from routing decisions: it is approximate (a replica
// may have evicted a block the index still lists, or another client may have
// warmed a block the index does not know about), and it is cheap: hashing and
// matching cost microseconds and matching allocates nothing in steady state.
package prefix

import (
	"sync"
	"sync/atomic"

	"github.com/infergate/infergate/internal/pool"
)

// MaxCapacity is the ceiling on the number of blocks the index remembers per
// endpoint, whatever capacity a caller asks for. It bounds memory when an
// engine reports an implausible KV-cache size: one remembered block costs
// about 64 bytes (a 16-byte LRU node plus its share of a hash-map entry), so
// one endpoint costs at most about 64 MiB.
const MaxCapacity = 1 << 20

const (
	numShards       = 64
	nilNode   int32 = -1
)

// Index maps prefix-block hashes to the endpoints that likely hold them. The
// zero value is not usable; call [NewIndex]. All methods are safe for
// concurrent use: [Index.Match] takes only read locks, and [Index.Add] and
// [Index.Retain] serialise per endpoint.
//
// Lock order: Index.mu, then an endpoint's lru.mu, then a shard's mu. Match
// never holds two locks at once.
type Index struct {
	mu      sync.RWMutex
	lrus    map[*pool.Endpoint]*lru
	nextID  uint32   // endpoint slot ids handed out so far are 1..nextID
	freeIDs []uint32 // released ids, reused before nextID grows
	size    atomic.Int64
	shards  [numShards]shard
}

// shard is one lock-protected slice of the hash → holders map.
type shard struct {
	mu sync.RWMutex
	m  map[uint64]holders
	_  [32]byte // keep neighbouring shards' locks off one cache line
}

// holder is one endpoint that holds a block: its slot id and the block's
// node in that endpoint's LRU.
type holder struct {
	id   uint32
	node int32
}

// holders is the set of endpoints holding one block. Most blocks live on one
// endpoint, so the first holder is stored inline.
type holders struct {
	first holder
	more  []holder
}

// find returns the LRU node index of id's entry, or nilNode.
func (hs *holders) find(id uint32) int32 {
	if hs.first.id == id {
		return hs.first.node
	}
	for _, h := range hs.more {
		if h.id == id {
			return h.node
		}
	}
	return nilNode
}

// add inserts h; h.id must not be present. An empty set has first.id == 0.
func (hs *holders) add(h holder) {
	if hs.first.id == 0 {
		hs.first = h
		return
	}
	hs.more = append(hs.more, h)
}

// remove deletes id and reports whether the set is now empty.
func (hs *holders) remove(id uint32) (empty bool) {
	if hs.first.id == id {
		if n := len(hs.more); n > 0 {
			hs.first = hs.more[n-1]
			hs.more = hs.more[:n-1]
		} else {
			hs.first = holder{}
		}
	} else {
		for i, h := range hs.more {
			if h.id == id {
				n := len(hs.more) - 1
				hs.more[i] = hs.more[n]
				hs.more = hs.more[:n]
				break
			}
		}
	}
	if len(hs.more) == 0 {
		hs.more = nil
	}
	return hs.first.id == 0
}

// lru is one endpoint's recency list of block hashes, stored in a slice of
// nodes linked by index so that it allocates only while growing.
type lru struct {
	mu      sync.Mutex
	id      uint32 // fixed at creation; read without mu
	removed bool
	nodes   []node
	head    int32 // most recently used
	tail    int32 // least recently used
	free    int32 // free-list head, linked through next
	n       int
}

type node struct {
	hash       uint64
	prev, next int32
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{lrus: make(map[*pool.Endpoint]*lru)}
	for i := range x.shards {
		x.shards[i].m = make(map[uint64]holders)
	}
	return x
}

// Len returns the number of (endpoint, block) entries in the index.
func (x *Index) Len() int { return int(x.size.Load()) }

// Add records that ep was sent a prompt with the given block hashes, marking
// them most recently used. capacity is ep's block budget (clamped to
// [1, MaxCapacity]); least recently used blocks are evicted beyond it.
//
// Blocks are inserted last-to-first so that block 0 ends up most recently
// used: under pressure the index forgets the unique tail of a prompt before
// its shared head, which is also how vLLM frees a finished request's blocks.
func (x *Index) Add(ep *pool.Endpoint, hashes []uint64, capacity int) {
	if len(hashes) == 0 || ep == nil {
		return
	}
	capacity = min(max(capacity, 1), MaxCapacity)
	l := x.lruFor(ep)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.removed {
		return // Retain dropped ep while we waited
	}
	for l.n > capacity {
		x.evictOldest(l)
	}
	for i := len(hashes) - 1; i >= 0; i-- {
		x.put(l, hashes[i], capacity)
	}
}

// lruFor returns ep's LRU, creating it on first use.
func (x *Index) lruFor(ep *pool.Endpoint) *lru {
	x.mu.RLock()
	l := x.lrus[ep]
	x.mu.RUnlock()
	if l != nil {
		return l
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if l = x.lrus[ep]; l != nil {
		return l
	}
	var id uint32
	if n := len(x.freeIDs); n > 0 {
		id = x.freeIDs[n-1]
		x.freeIDs = x.freeIDs[:n-1]
	} else {
		x.nextID++
		id = x.nextID
	}
	l = &lru{id: id, head: nilNode, tail: nilNode, free: nilNode}
	x.lrus[ep] = l
	return l
}

// put marks h most recently used in l, inserting it (and evicting to stay
// within capacity) when new. The caller holds l.mu; only l's owner changes
// l's holder entries, so a lookup under the read lock stays valid.
func (x *Index) put(l *lru, h uint64, capacity int) {
	sh := &x.shards[h%numShards]
	sh.mu.RLock()
	idx := nilNode
	if hs, ok := sh.m[h]; ok {
		idx = hs.find(l.id)
	}
	sh.mu.RUnlock()
	if idx != nilNode {
		l.moveToFront(idx)
		return
	}
	for l.n >= capacity {
		x.evictOldest(l)
	}
	idx = l.pushFront(h)
	sh.mu.Lock()
	hs := sh.m[h]
	hs.add(holder{id: l.id, node: idx})
	sh.m[h] = hs
	sh.mu.Unlock()
	x.size.Add(1)
}

// evictOldest drops l's least recently used block. The caller holds l.mu.
func (x *Index) evictOldest(l *lru) {
	idx := l.tail
	if idx == nilNode {
		return
	}
	h := l.nodes[idx].hash
	sh := &x.shards[h%numShards]
	sh.mu.Lock()
	if hs, ok := sh.m[h]; ok {
		if hs.remove(l.id) {
			delete(sh.m, h)
		} else {
			sh.m[h] = hs
		}
	}
	sh.mu.Unlock()
	l.unlink(idx)
	l.nodes[idx] = node{next: l.free}
	l.free = idx
	l.n--
	x.size.Add(-1)
}

// Retain drops every endpoint for which keep returns false, with all its
// blocks, and recycles its slot. keep is called with the index locked and
// must not call back into the index.
func (x *Index) Retain(keep func(*pool.Endpoint) bool) {
	var gone []*lru
	x.mu.Lock()
	for ep, l := range x.lrus {
		if !keep(ep) {
			delete(x.lrus, ep)
			gone = append(gone, l)
		}
	}
	x.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	for _, l := range gone {
		l.mu.Lock()
		l.removed = true
		for l.tail != nilNode {
			x.evictOldest(l)
		}
		l.nodes = nil
		l.mu.Unlock()
	}
	// Recycle ids only now that no holder entry refers to them, so Match
	// never credits a dropped endpoint's blocks to a new one.
	x.mu.Lock()
	for _, l := range gone {
		x.freeIDs = append(x.freeIDs, l.id)
	}
	x.mu.Unlock()
}

// Scratch is reusable working memory for [Index.Match]. The zero value is
// ready to use; it must not be shared by concurrent calls.
type Scratch struct {
	byID   []int32  // matched blocks so far per endpoint slot; -1 = not a candidate
	candID []uint32 // slot id per candidate; 0 = unknown to the index
}

// Match sets out[i] to the number of leading blocks of hashes that cands[i]
// holds consecutively (0 when it holds none or is unknown). out must have
// len(cands) elements. Match costs one read-locked map lookup per block up to
// the longest match among the candidates, plus a scan of each block's
// holders, and allocates only when s must grow.
func (x *Index) Match(hashes []uint64, cands []*pool.Endpoint, out []int, s *Scratch) {
	out = out[:len(cands)]
	clear(out)
	if len(hashes) == 0 || len(cands) == 0 {
		return
	}
	known := false
	x.mu.RLock()
	n := int(x.nextID) + 1
	if cap(s.byID) < n {
		s.byID = make([]int32, n)
	}
	s.byID = s.byID[:n]
	for i := range s.byID {
		s.byID[i] = -1
	}
	if cap(s.candID) < len(cands) {
		s.candID = make([]uint32, len(cands))
	}
	s.candID = s.candID[:len(cands)]
	for i, ep := range cands {
		var id uint32
		if l := x.lrus[ep]; l != nil {
			id = l.id
			s.byID[id] = 0
			known = true
		}
		s.candID[i] = id
	}
	x.mu.RUnlock()
	if !known {
		return
	}
	for b, h := range hashes {
		want := int32(b)
		advanced := false
		sh := &x.shards[h%numShards]
		sh.mu.RLock()
		if hs, ok := sh.m[h]; ok {
			advanced = s.advance(hs.first.id, want)
			for _, o := range hs.more {
				advanced = s.advance(o.id, want) || advanced
			}
		}
		sh.mu.RUnlock()
		if !advanced {
			break
		}
	}
	for i, id := range s.candID {
		if id != 0 {
			out[i] = int(s.byID[id])
		}
	}
}

// advance extends id's match from want to want+1 blocks if id has matched
// every block so far, and reports whether it did.
func (s *Scratch) advance(id uint32, want int32) bool {
	if int(id) >= len(s.byID) || s.byID[id] != want {
		return false // not a candidate, a slot newer than this match, or fell behind
	}
	s.byID[id] = want + 1
	return true
}

// pushFront stores h in a free node at the head of l and returns its index.
func (l *lru) pushFront(h uint64) int32 {
	var idx int32
	if l.free != nilNode {
		idx = l.free
		l.free = l.nodes[idx].next
	} else {
		idx = int32(len(l.nodes))
		l.nodes = append(l.nodes, node{})
	}
	l.nodes[idx] = node{hash: h, prev: nilNode, next: l.head}
	if l.head != nilNode {
		l.nodes[l.head].prev = idx
	}
	l.head = idx
	if l.tail == nilNode {
		l.tail = idx
	}
	l.n++
	return idx
}

// moveToFront marks node idx most recently used.
func (l *lru) moveToFront(idx int32) {
	if l.head == idx {
		return
	}
	l.unlink(idx)
	l.nodes[idx].prev = nilNode
	l.nodes[idx].next = l.head
	if l.head != nilNode {
		l.nodes[l.head].prev = idx
	}
	l.head = idx
	if l.tail == nilNode {
		l.tail = idx
	}
}

// unlink detaches node idx from the list.
func (l *lru) unlink(idx int32) {
	nd := &l.nodes[idx]
	if nd.prev != nilNode {
		l.nodes[nd.prev].next = nd.next
	} else {
		l.head = nd.next
	}
	if nd.next != nilNode {
		l.nodes[nd.next].prev = nd.prev
	} else {
		l.tail = nd.prev
	}
	nd.prev, nd.next = nilNode, nilNode
}
