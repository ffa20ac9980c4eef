package admission

import (
	"sync"
	"testing"
)

func TestInFlightCaps(t *testing.T) {
	t.Parallel()
	f := NewInFlight(2)
	for i := range 2 {
		if !f.TryAcquire() {
			t.Fatalf("acquisition %d failed", i+1)
		}
	}
	if f.TryAcquire() {
		t.Fatal("a third acquisition succeeded at cap 2")
	}
	f.Release()
	if !f.TryAcquire() {
		t.Fatal("no slot after a release")
	}
	if f.Len() != 2 {
		t.Fatalf("Len = %d, want 2", f.Len())
	}
}

func TestInFlightConcurrent(t *testing.T) {
	t.Parallel()
	f := NewInFlight(10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for range 100 {
		wg.Go(func() {
			if f.TryAcquire() {
				mu.Lock()
				held++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if held != 10 || f.Len() != 10 {
		t.Fatalf("held %d, Len %d; want 10 each", held, f.Len())
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	b := NewBudget(100)
	if !b.TryReserve(60) {
		t.Fatal("60 of 100 refused")
	}
	if b.TryReserve(41) {
		t.Fatal("41 more granted past the limit")
	}
	if b.Used() != 60 {
		t.Fatalf("a refused reservation kept bytes: used %d", b.Used())
	}
	if !b.TryReserve(40) {
		t.Fatal("exactly the rest refused")
	}
	b.Release(100)
	if b.Used() != 0 {
		t.Fatalf("used %d after releasing all", b.Used())
	}
	if !NewBudget(0).TryReserve(1 << 40) {
		t.Fatal("an unlimited budget refused")
	}
}
