package simulator

// kvCache is the paged KV cache with automatic prefix caching, owned by the
// engine goroutine (no locking).
//
// Every block is either held (ref > 0) by one or more requests, or free
// (ref == 0) and in the free queue. A free block may still carry the hash
// of the tokens it holds: it is a cached block that a later request with the
// same prefix can take back (a hit) until allocation pops it from the head
// of the free queue and evicts it. Released blocks join the tail of the
// queue, the last block of a sequence first, so eviction is least recently
// used and takes a sequence's tail before its shared prefix.
type kvCache struct {
	blockSize int
	blocks    []kvBlock
	table     map[uint64]int32 // hash → cached block
	head      int32            // free queue, -1 when empty
	tail      int32
	numFree   int
	scratch   []byte
}

// kvBlock is one block of the cache.
type kvBlock struct {
	hash       uint64
	hashed     bool
	ref        int32
	prev, next int32 // free queue links, -1 at the ends
}

// newKVCache returns a cache of numBlocks empty blocks of blockSize tokens.
func newKVCache(numBlocks, blockSize int) *kvCache {
	c := &kvCache{
		blockSize: blockSize,
		blocks:    make([]kvBlock, numBlocks),
		table:     make(map[uint64]int32),
		head:      -1,
		tail:      -1,
	}
	for i := range c.blocks {
		c.pushTail(int32(i))
	}
	return c
}

// usedBlocks returns the number of blocks held by requests. Cached but
// unreferenced blocks count as free, as in vLLM's KV cache usage.
func (c *kvCache) usedBlocks() int { return len(c.blocks) - c.numFree }

// cachedBlocks returns how many leading hashes are in the cache.
func (c *kvCache) cachedBlocks(hashes []uint64) int {
	for i, h := range hashes {
		if _, ok := c.table[h]; !ok {
			return i
		}
	}
	return len(hashes)
}

// allocate makes r hold enough blocks for totalTokens tokens. When r holds
// no blocks yet, its first hitBlocks blocks are taken from the cache (their
// hashes must have been found by cachedBlocks). It returns false, and
// changes nothing, when there are not enough free blocks.
func (c *kvCache) allocate(r *request, hitBlocks, totalTokens int) bool {
	need := (totalTokens+c.blockSize-1)/c.blockSize - len(r.blocks) - hitBlocks
	evictableHits := 0
	for _, h := range r.hashes[:hitBlocks] {
		if c.blocks[c.table[h]].ref == 0 {
			evictableHits++
		}
	}
	if need > c.numFree-evictableHits {
		return false
	}
	for _, h := range r.hashes[:hitBlocks] {
		id := c.table[h]
		if c.blocks[id].ref == 0 {
			c.unlink(id)
		}
		c.blocks[id].ref++
		r.blocks = append(r.blocks, id)
	}
	r.hashedBlocks = max(r.hashedBlocks, hitBlocks)
	for range need {
		id := c.head
		c.unlink(id)
		b := &c.blocks[id]
		if b.hashed {
			if c.table[b.hash] == id {
				delete(c.table, b.hash)
			}
			b.hashed = false
		}
		b.ref = 1
		r.blocks = append(r.blocks, id)
	}
	return true
}

// commit registers r's blocks that became full of computed tokens in the
// prefix cache. A block whose hash is already cached elsewhere (another
// request computed the same prefix concurrently) stays unregistered.
func (c *kvCache) commit(r *request) {
	full := min(r.computed/c.blockSize, len(r.blocks))
	for k := r.hashedBlocks; k < full; k++ {
		var h uint64
		h, c.scratch = r.blockHash(k, c.blockSize, c.scratch)
		id := r.blocks[k]
		b := &c.blocks[id]
		if b.hashed {
			continue
		}
		if _, dup := c.table[h]; dup {
			continue
		}
		b.hash, b.hashed = h, true
		c.table[h] = id
	}
	r.hashedBlocks = max(r.hashedBlocks, full)
}

// release drops r's references; blocks nobody holds join the free queue,
// keeping their hashes so later requests can hit them.
func (c *kvCache) release(r *request) {
	for i := len(r.blocks) - 1; i >= 0; i-- {
		id := r.blocks[i]
		c.blocks[id].ref--
		if c.blocks[id].ref == 0 {
			c.pushTail(id)
		}
	}
	r.blocks = r.blocks[:0]
	r.hashedBlocks = 0
}

func (c *kvCache) pushTail(id int32) {
	b := &c.blocks[id]
	b.prev, b.next = c.tail, -1
	if c.tail >= 0 {
		c.blocks[c.tail].next = id
	} else {
		c.head = id
	}
	c.tail = id
	c.numFree++
}

func (c *kvCache) unlink(id int32) {
	b := &c.blocks[id]
	if b.prev >= 0 {
		c.blocks[b.prev].next = b.next
	} else {
		c.head = b.next
	}
	if b.next >= 0 {
		c.blocks[b.next].prev = b.prev
	} else {
		c.tail = b.prev
	}
	b.prev, b.next = -1, -1
	c.numFree--
}
