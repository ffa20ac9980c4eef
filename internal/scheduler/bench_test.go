package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// benchPool returns 100 endpoints with varied fresh metrics and in-flight
// counts, a scheduler whose prefix index is warm for 20 shared system
// prompts spread over them, and a request that shares one of those prompts.
func benchPool(tb testing.TB) (*Scheduler, *pool.Snapshot, *Request) {
	tb.Helper()
	eps := make([]*pool.Endpoint, 100)
	for i := range eps {
		ep := pool.NewEndpoint(pool.Spec{Name: fmt.Sprintf("ep%d", i), Address: fmt.Sprintf("10.1.0.%d:8000", i)})
		m := pool.Metrics{
			WaitingQueue: i % 4,
			Running:      8 + i%8,
			KVCacheUsage: float64(i%10) / 12,
			MaxAdapters:  4,
			BlockSize:    16,
			NumGPUBlocks: 30000,
			ScrapedAt:    testNow,
		}
		if i%3 == 0 {
			m.ActiveAdapters = []string{"sql-lora", "chat-lora"}
		}
		ep.SetMetrics(&m)
		for range i % 5 {
			ep.Acquire(900)
		}
		eps[i] = ep
	}
	snap := pool.NewSnapshot(eps)
	s := New(DefaultConfig(), nil)
	for g := range 20 {
		for r := range 10 {
			req := &Request{Model: "llama", Prompt: chatPrompt(g, r, 4096)}
			s.Commit(req, eps[(g*7+r)%len(eps)])
		}
	}
	req := &Request{Model: "llama", Prompt: chatPrompt(3, 99, 4096), EstimatedTokens: 1300}
	return s, snap, req
}

// BenchmarkPick measures one scheduling decision over 100 endpoints with a
// 4 KiB prompt and a warm prefix index.
//
//	go test -run '^$' -bench BenchmarkPick -benchmem ./internal/scheduler/
func BenchmarkPick(b *testing.B) {
	s, snap, req := benchPool(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPickObserved is BenchmarkPick with a plugin observer that
// discards its input: the cost of timing each plugin.
//
//	go test -run '^$' -bench 'BenchmarkPick(Observed)?$' -benchmem ./internal/scheduler/
func BenchmarkPickObserved(b *testing.B) {
	base, snap, req := benchPool(b)
	s := New(base.Config(), nil, WithPluginObserver(sinkObserver{}))
	s.index = base.index // the warm prefix index
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Pick(req, snap, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// sinkObserver is a PluginObserver that keeps nothing.
type sinkObserver struct{}

func (sinkObserver) ObservePlugin(Plugin, time.Duration) {}

// BenchmarkPickParallel is BenchmarkPick from GOMAXPROCS goroutines.
//
//	go test -run '^$' -bench BenchmarkPickParallel -benchmem -cpu 1,2,4 ./internal/scheduler/
func BenchmarkPickParallel(b *testing.B) {
	s, snap, proto := benchPool(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &Request{Model: proto.Model, Prompt: proto.Prompt, EstimatedTokens: proto.EstimatedTokens}
		for pb.Next() {
			if _, err := s.Pick(req, snap, testNow); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCommit measures recording a routing decision in the prefix index.
//
//	go test -run '^$' -bench BenchmarkCommit -benchmem ./internal/scheduler/
func BenchmarkCommit(b *testing.B) {
	s, snap, req := benchPool(b)
	ep := snap.Endpoints()[0]
	if _, err := s.Pick(req, snap, testNow); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Commit(req, ep)
	}
}
