package router

import "github.com/infergate/infergate/internal/pool"

// Endpoints returns the endpoints of the pool named poolName ("" names the
// default pool, the catalog's first), nil when there is no such pool. The
// slice is the pool's current snapshot: callers must not modify it.
func (r *Router) Endpoints(poolName string) []*pool.Endpoint {
	t := r.table.Load()
	if poolName == "" {
		if len(t.pools) == 0 {
			return nil
		}
		return t.pools[0].Store.Load().Endpoints()
	}
	p, ok := t.byName[poolName]
	if !ok {
		return nil
	}
	return p.Store.Load().Endpoints()
}
