package scheduler

import (
	"sync"

	"github.com/infergate/infergate/internal/pool"
)

// maxRememberedAdapters bounds how many adapters the memory keeps per
// endpoint: more than any replica's adapter slots in practice (vLLM's
// max_loras is typically 1 to 8).
const maxRememberedAdapters = 16

// adapterMemory is the gateway's own record of where LoRA adapters went.
//
// A model server reports only adapters with running or waiting requests
// (vLLM's lora_requests_info), so an adapter that is loaded but idle is
// invisible in its metrics; yet sending the next request for it to that
// replica avoids loading it again, or waiting for a slot, elsewhere. The
// memory keeps, per endpoint, the adapters most recently sent there, most
// recent first, which approximates the replica's own least-recently-used
// adapter cache as long as this gateway sends it its traffic. The LoRA
// scorer treats the first max_lora of them as resident.
//
// It also remembers which model names are adapters: a name is learned as
// one once some replica reported it running or waiting, so later requests
// for it get adapter affinity even when no replica shows it at that moment.
//
// Reads (during Pick) take a read lock and never allocate; writes happen in
// Commit.
type adapterMemory struct {
	mu     sync.RWMutex
	known  map[string]struct{}
	recent map[*pool.Endpoint]*adapterRing
}

// adapterRing is one endpoint's adapters, most recently sent first.
type adapterRing struct {
	names [maxRememberedAdapters]string
	n     int
}

func newAdapterMemory() *adapterMemory {
	return &adapterMemory{known: make(map[string]struct{}), recent: make(map[*pool.Endpoint]*adapterRing)}
}

// isAdapter reports whether model was learned as an adapter.
func (a *adapterMemory) isAdapter(model string) bool {
	a.mu.RLock()
	_, ok := a.known[model]
	a.mu.RUnlock()
	return ok
}

// resident reports whether adapter is among the slots most recently sent
// adapters of ep.
func (a *adapterMemory) resident(ep *pool.Endpoint, adapter string, slots int) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	r := a.recent[ep]
	if r == nil {
		return false
	}
	for i := range min(r.n, slots) {
		if r.names[i] == adapter {
			return true
		}
	}
	return false
}

// sent records that a request for adapter went to ep.
func (a *adapterMemory) sent(ep *pool.Endpoint, adapter string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.known[adapter]; !ok {
		a.known[adapter] = struct{}{}
	}
	r := a.recent[ep]
	if r == nil {
		r = &adapterRing{}
		a.recent[ep] = r
	}
	// Move adapter to the front, shifting the more recent ones back.
	i := 0
	for i < r.n && r.names[i] != adapter {
		i++
	}
	if i == r.n {
		if r.n < maxRememberedAdapters {
			r.n++
		}
		i = r.n - 1
	}
	copy(r.names[1:i+1], r.names[:i])
	r.names[0] = adapter
}

// retain drops the memory of endpoints for which keep is false.
func (a *adapterMemory) retain(keep func(*pool.Endpoint) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ep := range a.recent {
		if !keep(ep) {
			delete(a.recent, ep)
		}
	}
}
