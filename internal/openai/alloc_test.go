//go:build !race

package openai

import "testing"

// Allocation budgets for the hot path. The race detector changes
// allocation counts, so these run only without -race.
func TestAllocations(t *testing.T) {
	body := chatBody(4 << 10)
	r, err := ParseRequest(body, KindChatCompletions)
	if err != nil {
		t.Fatal(err)
	}
	stream := vllmStream(false, 50)
	tests := []struct {
		name string
		max  float64
		fn   func()
	}{
		{name: "ParseRequest", max: 1, fn: func() { _, _ = ParseRequest(body, KindChatCompletions) }},
		{name: "Rewrite unchanged", max: 0, fn: func() { _ = r.Rewrite(body, r.Model, false) }},
		{name: "Rewrite model and usage", max: 1, fn: func() { _ = r.Rewrite(body, "another-model", true) }},
		{name: "Edit unchanged", max: 0, fn: func() { _ = r.Edit(body, r.Model, false) }},
		{name: "Edit model and usage", max: 1, fn: func() { _ = r.Edit(body, "another-model", true) }},
		{name: "ParseUsage", max: 0, fn: func() { _, _ = ParseUsage([]byte(`{"choices":[],"usage":{"prompt_tokens":1}}`)) }},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(100, tc.fn); got > tc.max {
			t.Errorf("%s: %v allocs/op, budget %v", tc.name, got, tc.max)
		}
	}

	// A StreamObserver reaches a steady state with no allocations per chunk.
	o := NewStreamObserver(true)
	dst := make([]byte, 0, len(stream))
	chunks := splitEvery(stream, 37)
	if got := testing.AllocsPerRun(20, func() {
		o = NewStreamObserver(true)
		for _, c := range chunks {
			dst, _ = o.Process(dst[:0], c)
		}
	}); got > 2 {
		t.Errorf("StreamObserver over %d chunks: %v allocs/op, budget 2 (observer and its held buffer)", len(chunks), got)
	}
}
