package kubeauth

import (
	"container/list"
	"sync"
	"time"
)

// ttlCache is a size-bounded map whose entries expire. When full, adding
// evicts the least recently used entry; expired entries are dropped when
// looked up or evicted. Safe for concurrent use. Time comes from the caller,
// so tests drive it with a fake clock.
type ttlCache[K comparable, V any] struct {
	mu    sync.Mutex
	limit int
	order *list.List // of *ttlEntry[K, V], most recently used first
	items map[K]*list.Element
}

// ttlEntry is one cached value.
type ttlEntry[K comparable, V any] struct {
	key     K
	val     V
	expires time.Time
}

// newTTLCache returns an empty cache holding at most limit entries (limit > 0).
func newTTLCache[K comparable, V any](limit int) *ttlCache[K, V] {
	return &ttlCache[K, V]{limit: limit, order: list.New(), items: make(map[K]*list.Element)}
}

// get returns the value cached for key if it has not expired at now.
func (c *ttlCache[K, V]) get(key K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*ttlEntry[K, V])
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

// add caches val for key until expires, replacing any previous value.
func (c *ttlCache[K, V]) add(key K, val V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*ttlEntry[K, V])
		e.val, e.expires = val, expires
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.limit {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*ttlEntry[K, V]).key)
	}
	c.items[key] = c.order.PushFront(&ttlEntry[K, V]{key: key, val: val, expires: expires})
}

// len returns the number of entries, expired ones included.
func (c *ttlCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
