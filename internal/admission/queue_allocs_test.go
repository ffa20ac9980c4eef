//go:build !race

package admission

import (
	"context"
	"testing"
)

// TestEnqueueAllocs keeps the unsaturated path allocation-free: a request
// that does not wait costs flow control no garbage.
func TestEnqueueAllocs(t *testing.T) {
	sig := &fakeSignal{s: idle}
	q := NewQueue(Options{Signal: sig, Clock: newFakeClock()})
	ctx := context.Background()
	it := Item{Priority: 1, FairnessID: "tenant", Model: "m", TargetModel: "m"}
	allocs := testing.AllocsPerRun(1000, func() {
		tk, err := q.Enqueue(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		tk.Routed()
		tk.Release()
	})
	if allocs != 0 {
		t.Fatalf("Enqueue+Release allocates %v times when not saturated, want 0", allocs)
	}
}
