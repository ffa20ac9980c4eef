package simulator

import (
	"slices"
	"strings"
)

// loraSlots tracks which LoRA adapters are loaded in the GPU's adapter slots
// and which are in use by running requests. It is owned by the engine
// goroutine.
//
// A request for an adapter can run when the adapter is already in use, or
// when fewer than max adapters are in use: then the adapter is loaded if it
// is not resident, into a free slot or in place of the least recently used
// adapter no running request needs. Otherwise the request waits until a
// running adapter's last request leaves the batch.
type loraSlots struct {
	max     int
	loaded  []string       // resident adapters, least recently used first
	running map[string]int // adapter → running requests
}

// newLoRASlots returns max slots holding the preloaded adapters.
func newLoRASlots(max int, preloaded []string) *loraSlots {
	return &loraSlots{
		max:     max,
		loaded:  slices.Clone(preloaded),
		running: make(map[string]int),
	}
}

// canAcquire reports whether a request for adapter could join the batch now.
func (l *loraSlots) canAcquire(adapter string) bool {
	return l.running[adapter] > 0 || len(l.running) < l.max
}

// acquire adds a running request for adapter, which canAcquire must allow.
// It reports whether the adapter had to be loaded into a slot.
func (l *loraSlots) acquire(adapter string) (loaded bool) {
	l.running[adapter]++
	if i := slices.Index(l.loaded, adapter); i >= 0 {
		l.loaded = append(slices.Delete(l.loaded, i, i+1), adapter)
		return false
	}
	if len(l.loaded) >= l.max {
		for i, name := range l.loaded {
			if l.running[name] == 0 {
				l.loaded = slices.Delete(l.loaded, i, i+1)
				break
			}
		}
	}
	l.loaded = append(l.loaded, adapter)
	return true
}

// release removes a running request for adapter; the adapter stays resident.
func (l *loraSlots) release(adapter string) {
	if l.running[adapter] <= 1 {
		delete(l.running, adapter)
		return
	}
	l.running[adapter]--
}

// runningList returns the adapters in use, sorted and comma-joined without
// spaces (the vllm:lora_requests_info label format).
func (l *loraSlots) runningList() string {
	return joinSorted(l.running)
}

// joinSorted returns the keys of m with a positive count, sorted and
// comma-joined.
func joinSorted(m map[string]int) string {
	names := make([]string, 0, len(m))
	for name, n := range m {
		if n > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
