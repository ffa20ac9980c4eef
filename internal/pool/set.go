package pool

import "sync/atomic"

// Set is the collection of pools one gateway serves. In static mode it never
// changes; in Kubernetes mode pools join and leave as InferencePool objects
// come and go. Readers get an immutable slice, so the scraper, the metrics
// collector and the dashboard can read it without locks while discovery
// replaces it.
type Set struct {
	cur atomic.Pointer[[]*Store]
}

// NewSet returns a set holding stores. The caller must not modify the slice
// afterwards.
func NewSet(stores ...*Store) *Set {
	s := &Set{}
	s.Replace(stores)
	return s
}

// Stores returns the current pools in a stable order. The slice must not be
// modified.
func (s *Set) Stores() []*Store { return *s.cur.Load() }

// Replace publishes stores as the current pools. The caller must not modify
// the slice afterwards. Replace is meant for a single writer.
func (s *Set) Replace(stores []*Store) {
	if stores == nil {
		stores = []*Store{}
	}
	s.cur.Store(&stores)
}
