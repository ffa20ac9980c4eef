package controller

import (
	"context"
	"reflect"
	"sync"

	"github.com/infergate/infergate/internal/config"
)

// publisher delivers catalogs to a publish function from a single
// goroutine: offer never blocks, only the latest offered catalog is
// delivered, and a catalog equal to the last delivered one is dropped.
type publisher struct {
	mu   sync.Mutex
	next *config.Catalog // latest offered, not yet taken; guarded by mu

	wake       chan struct{} // capacity 1: "next was set"
	synced     chan struct{} // closed after the first delivery
	syncedOnce sync.Once
}

func newPublisher() *publisher {
	return &publisher{
		wake:   make(chan struct{}, 1),
		synced: make(chan struct{}),
	}
}

// offer makes cat the next catalog to deliver, replacing one not yet
// delivered. The publisher owns cat afterwards.
func (p *publisher) offer(cat config.Catalog) {
	p.mu.Lock()
	p.next = &cat
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run delivers offered catalogs to publish until ctx is done.
func (p *publisher) run(ctx context.Context, publish func(config.Catalog)) {
	var last *config.Catalog
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.mu.Lock()
		cat := p.next
		p.next = nil
		p.mu.Unlock()
		if cat == nil || (last != nil && reflect.DeepEqual(*last, *cat)) {
			continue
		}
		// Publish gets a copy: it owns it and may change it, while last
		// must stay as delivered.
		publish(cloneCatalog(*cat))
		last = cat
		p.syncedOnce.Do(func() { close(p.synced) })
	}
}
