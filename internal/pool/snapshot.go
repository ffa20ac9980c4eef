package pool

import "sync/atomic"

// Snapshot is an immutable set of endpoints. Its slice and map are never
// modified after creation, so any number of goroutines may read it.
type Snapshot struct {
	endpoints []*Endpoint
	byAddress map[string]*Endpoint
}

// NewSnapshot builds a snapshot of eps. The caller must not modify eps afterwards.
func NewSnapshot(eps []*Endpoint) *Snapshot {
	s := &Snapshot{endpoints: eps, byAddress: make(map[string]*Endpoint, len(eps))}
	for _, e := range eps {
		s.byAddress[e.Address()] = e
	}
	return s
}

// Endpoints returns the endpoints in a stable order. The slice must not be modified.
func (s *Snapshot) Endpoints() []*Endpoint { return s.endpoints }

// Len returns the number of endpoints.
func (s *Snapshot) Len() int { return len(s.endpoints) }

// Lookup returns the endpoint with the given host:port address, or nil.
func (s *Snapshot) Lookup(address string) *Endpoint { return s.byAddress[address] }

// Store publishes the current snapshot of one pool. The zero value is not
// usable; call [NewStore].
type Store struct {
	name     string
	cur      atomic.Pointer[Snapshot]
	outliers atomic.Pointer[OutlierDetector]
}

// NewStore returns a store for the named pool holding an empty snapshot.
func NewStore(name string) *Store {
	s := &Store{name: name}
	s.cur.Store(NewSnapshot(nil))
	return s
}

// Name returns the pool's name.
func (s *Store) Name() string { return s.name }

// Load returns the current snapshot; never nil.
func (s *Store) Load() *Snapshot { return s.cur.Load() }

// Sync replaces the membership with specs. Endpoints whose spec is unchanged
// keep their identity, and with it their scraped metrics and in-flight
// counters; new specs get fresh endpoints; missing ones drop out. Sync is
// meant for a single writer (one discovery source per store).
func (s *Store) Sync(specs []Spec) *Snapshot {
	old := s.cur.Load()
	eps := make([]*Endpoint, 0, len(specs))
	for _, sp := range specs {
		if sp.Engine == "" {
			sp.Engine = EngineVLLM
		}
		if e := old.Lookup(sp.Address); e != nil && e.spec == sp {
			eps = append(eps, e)
			continue
		}
		eps = append(eps, NewEndpoint(sp))
	}
	next := NewSnapshot(eps)
	s.cur.Store(next)
	return next
}

// SetOutlierDetector turns on passive outlier detection for the pool with d
// (nil turns it off); [Store.Report] feeds it.
func (s *Store) SetOutlierDetector(d *OutlierDetector) { s.outliers.Store(d) }

// Report records how an attempt at ep, an endpoint of this pool, ended, for
// outlier detection; it does nothing while detection is off. A success
// costs a few atomic loads.
func (s *Store) Report(ep *Endpoint, r Result) {
	if d := s.outliers.Load(); d != nil && ep != nil {
		d.report(s, ep, r)
	}
}
