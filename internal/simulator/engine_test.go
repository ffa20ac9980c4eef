package simulator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// submitAll submits requests to e.
func submitAll(t *testing.T, e *engine, rs ...*request) {
	t.Helper()
	for _, r := range rs {
		if !e.submit(r) {
			t.Fatal("submit refused")
		}
	}
}

// distinctText returns a text of n tokens that shares no block with other
// values of i.
func distinctText(i, n int) string {
	return fmt.Sprintf("%04d", i) + words(n-1, uint64(i)+1000)
}

func TestEngineQueueing(t *testing.T) {
	tests := []struct {
		name        string
		maxNumSeqs  int
		wantRunning int
		wantWaiting int
	}{
		{name: "one sequence", maxNumSeqs: 1, wantRunning: 1, wantWaiting: 7},
		{name: "two sequences", maxNumSeqs: 2, wantRunning: 2, wantWaiting: 6},
		{name: "room for all", maxNumSeqs: 8, wantRunning: 8, wantWaiting: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testProfile()
			p.MaxNumSeqs = tc.maxNumSeqs
			e, log := newTestEngine(p)
			var rs []*request
			for i := range 8 {
				rs = append(rs, testRequest(p, distinctText(i, 32), "", 4))
			}
			submitAll(t, e, rs...)
			step(e)
			if log.last.running != tc.wantRunning || log.last.waiting != tc.wantWaiting {
				t.Errorf("after one step: running %d waiting %d, want %d and %d",
					log.last.running, log.last.waiting, tc.wantRunning, tc.wantWaiting)
			}
			runUntilIdle(t, e)
			if diff := cmp.Diff(map[string]int{finishLength: 8}, log.reasons); diff != "" {
				t.Errorf("finished (-want +got):\n%s", diff)
			}
			if log.maxWaiting != tc.wantWaiting {
				t.Errorf("max waiting = %d, want %d", log.maxWaiting, tc.wantWaiting)
			}
			last := rs[len(rs)-1]
			queued := last.scheduled - last.arrival
			if (queued > 0) != (tc.wantWaiting > 0) {
				t.Errorf("last request queued for %s; want queueing: %v", queued, tc.wantWaiting > 0)
			}
			for i, r := range rs {
				if got := r.snapshot(); got.generated != 4 || !got.finished {
					t.Errorf("request %d progress = %+v, want 4 tokens, finished", i, got)
				}
			}
		})
	}
}

func TestEngineStepTime(t *testing.T) {
	p := testProfile()
	p.ContextTokenTime = time.Microsecond
	tests := []struct {
		name string
		// setup submits requests and runs steps; the next step is measured.
		setup func(t *testing.T, e *engine)
		want  time.Duration
	}{
		{
			name:  "prefill",
			setup: func(t *testing.T, e *engine) { submitAll(t, e, testRequest(p, distinctText(0, 100), "", 4)) },
			want:  p.StepTime + 100*p.PrefillTokenTime,
		},
		{
			name: "decode one sequence",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 100), "", 4))
				step(e)
			},
			want: p.StepTime + p.DecodeSeqTime + 100*p.ContextTokenTime,
		},
		{
			name: "decode grows with the batch",
			setup: func(t *testing.T, e *engine) {
				for i := range 8 {
					submitAll(t, e, testRequest(p, distinctText(i, 40), "", 4))
				}
				step(e)
			},
			want: p.StepTime + 8*p.DecodeSeqTime + 8*40*p.ContextTokenTime,
		},
		{
			name: "decode grows with the context",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 100), "", 4))
				step(e)
				step(e)
			},
			want: p.StepTime + p.DecodeSeqTime + 101*p.ContextTokenTime,
		},
		{
			name:  "chunked prefill spends the token budget",
			setup: func(t *testing.T, e *engine) { submitAll(t, e, testRequest(p, distinctText(0, 1000), "", 4)) },
			want:  p.StepTime + time.Duration(p.MaxNumBatchedTokens)*p.PrefillTokenTime,
		},
		{
			name: "chunked prefill finishes the prompt",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 1000), "", 4))
				step(e)
			},
			want: p.StepTime + time.Duration(1000-p.MaxNumBatchedTokens)*p.PrefillTokenTime,
		},
		{
			name: "warm prefix prefills only the rest",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 100), "", 4))
				runUntilIdle(t, e)
				submitAll(t, e, testRequest(p, distinctText(0, 100), "", 4))
			},
			// 24 of 25 blocks hit; the last block is recomputed.
			want: p.StepTime + 4*p.PrefillTokenTime,
		},
		{
			name:  "adapter load",
			setup: func(t *testing.T, e *engine) { submitAll(t, e, testRequest(p, distinctText(0, 100), "a", 4)) },
			want:  p.StepTime + 100*p.PrefillTokenTime + p.LoRALoadTime,
		},
		{
			name: "resident adapter costs no load",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 100), "a", 4))
				runUntilIdle(t, e)
				submitAll(t, e, testRequest(p, distinctText(1, 100), "a", 4))
			},
			want: p.StepTime + 100*p.PrefillTokenTime,
		},
		{
			name: "adapter already in the batch costs no load",
			setup: func(t *testing.T, e *engine) {
				submitAll(t, e, testRequest(p, distinctText(0, 100), "a", 4))
				step(e)
				submitAll(t, e, testRequest(p, distinctText(1, 100), "a", 4))
			},
			want: p.StepTime + 100*p.PrefillTokenTime + p.DecodeSeqTime + 100*p.ContextTokenTime,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newTestEngine(p)
			tc.setup(t, e)
			if got := step(e); got != tc.want {
				t.Errorf("step took %s, want %s", got, tc.want)
			}
		})
	}
}

func TestEnginePrefixCache(t *testing.T) {
	p := testProfile()
	system := distinctText(1, 200)
	tests := []struct {
		name               string
		first, second      string
		adapter1, adapter2 string
		wantCached         int
	}{
		{name: "identical prompt", first: distinctText(0, 400), second: distinctText(0, 400), wantCached: 396},
		{name: "shared system prompt", first: system + words(200, 1), second: system + words(200, 2), wantCached: 200},
		{name: "different adapter", first: distinctText(0, 400), second: distinctText(0, 400), adapter2: "a"},
		{name: "different first block", first: distinctText(0, 400), second: "x" + distinctText(0, 400)[1:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, log := newTestEngine(p)
			r1 := testRequest(p, tc.first, tc.adapter1, 8)
			submitAll(t, e, r1)
			runUntilIdle(t, e)
			r2 := testRequest(p, tc.second, tc.adapter2, 8)
			submitAll(t, e, r2)
			runUntilIdle(t, e)
			if diff := cmp.Diff([]int{0, tc.wantCached}, log.cached); diff != "" {
				t.Errorf("cached tokens (-want +got):\n%s", diff)
			}
			if got := r2.snapshot().cachedTokens; got != tc.wantCached {
				t.Errorf("reported cached tokens = %d, want %d", got, tc.wantCached)
			}
			ttft1, ttft2 := r1.firstToken-r1.arrival, r2.firstToken-r2.arrival
			wantTTFT2 := p.StepTime + time.Duration(r2.prompt.tokens-tc.wantCached)*p.PrefillTokenTime
			if tc.adapter2 != "" {
				wantTTFT2 += p.LoRALoadTime
			}
			if ttft2 != wantTTFT2 {
				t.Errorf("second TTFT = %s, want %s (first %s)", ttft2, wantTTFT2, ttft1)
			}
		})
	}
}

func TestMultiTurnHitsOutputBlocks(t *testing.T) {
	p := testProfile()
	e, log := newTestEngine(p)
	turn1 := []chatMessage{
		{Role: "system", Content: []byte(`"` + words(50, 3) + `"`)},
		{Role: "user", Content: []byte(`"what is up?"`)},
	}
	text1, apiErr := chatText(turn1)
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	salt := hashSalt("model", "")
	r1 := newRequest("", newPrompt(text1, p.BlockSize, salt, 1), 40, finishLength)
	submitAll(t, e, r1)
	runUntilIdle(t, e)

	var answer []byte
	for i := range 40 {
		answer = appendWord(answer, r1.prompt.outputSeed, i)
	}
	turn2 := append(turn1,
		chatMessage{Role: "assistant", Content: []byte(`"` + string(answer) + `"`)},
		chatMessage{Role: "user", Content: []byte(`"and then?"`)})
	text2, apiErr := chatText(turn2)
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	r2 := newRequest("", newPrompt(text2, p.BlockSize, salt, 1), 4, finishLength)
	submitAll(t, e, r2)
	runUntilIdle(t, e)

	// Turn 1's prompt and all but its last (uncomputed) output token are
	// cached, in whole blocks.
	want := (r1.prompt.tokens + 40 - 1) / p.BlockSize * p.BlockSize
	if got := log.cached[1]; got != want {
		t.Errorf("second turn cached %d tokens, want %d (first turn prompt %d tokens)", got, want, r1.prompt.tokens)
	}
}

func TestEnginePreemption(t *testing.T) {
	p := testProfile()
	p.NumGPUBlocks, p.MaxModelLen = 16, 64 // 64 tokens of KV
	e, log := newTestEngine(p)
	var rs []*request
	for i := range 4 {
		rs = append(rs, testRequest(p, distinctText(i, 16), "", 24))
	}
	submitAll(t, e, rs...)
	runUntilIdle(t, e)
	if log.preemptions == 0 {
		t.Error("no preemption although four requests need 160 tokens of a 64-token cache")
	}
	if diff := cmp.Diff(map[string]int{finishLength: 4}, log.reasons); diff != "" {
		t.Errorf("finished (-want +got):\n%s", diff)
	}
	for i, r := range rs {
		if got := r.snapshot(); got.generated != 24 || !got.finished {
			t.Errorf("request %d progress = %+v, want 24 tokens, finished", i, got)
		}
	}
	if got := e.kv.usedBlocks(); got != 0 {
		t.Errorf("%d blocks still used after all requests finished", got)
	}
	checkFreeQueue(t, e.kv)
}

func TestEngineLoRAWaitsForSlot(t *testing.T) {
	p := testProfile()
	p.MaxLoRAs = 1
	e, log := newTestEngine(p)
	a1 := testRequest(p, distinctText(0, 16), "a", 8)
	b1 := testRequest(p, distinctText(1, 16), "b", 8)
	base := testRequest(p, distinctText(2, 16), "", 8)
	submitAll(t, e, a1, b1, base)
	step(e)
	if log.last.running != 2 || log.last.waiting != 1 {
		t.Fatalf("running %d waiting %d, want the adapter-a and base requests running and b waiting",
			log.last.running, log.last.waiting)
	}
	if log.running != "a" || log.waiting != "b" {
		t.Errorf("adapters running %q waiting %q, want \"a\" and \"b\"", log.running, log.waiting)
	}
	runUntilIdle(t, e)
	if !b1.snapshot().finished {
		t.Fatal("b never ran")
	}
	if b1.scheduled < a1.lastToken {
		t.Errorf("b was scheduled at %s, before a's last token at %s", b1.scheduled, a1.lastToken)
	}
	if log.running != "" || log.waiting != "" {
		t.Errorf("adapters running %q waiting %q after idle, want none", log.running, log.waiting)
	}
}

func TestEngineAbort(t *testing.T) {
	p := testProfile()
	tests := []struct {
		name       string
		stepsFirst int
		wantAbort  int
	}{
		{name: "while waiting", stepsFirst: 0, wantAbort: 1},
		{name: "while running", stepsFirst: 2, wantAbort: 1},
		{name: "after finishing", stepsFirst: 100, wantAbort: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, log := newTestEngine(p)
			r := testRequest(p, distinctText(0, 40), "a", 8)
			submitAll(t, e, r)
			e.drain()
			for range tc.stepsFirst {
				step(e)
			}
			e.abort(r)
			step(e)
			runUntilIdle(t, e)
			if got := log.reasons[finishAbort]; got != tc.wantAbort {
				t.Errorf("aborted %d, want %d", got, tc.wantAbort)
			}
			if log.last.running != 0 || log.last.waiting != 0 || e.kv.usedBlocks() != 0 {
				t.Errorf("after abort: running %d waiting %d used blocks %d, want all 0",
					log.last.running, log.last.waiting, e.kv.usedBlocks())
			}
			if log.running != "" || log.waiting != "" {
				t.Errorf("adapters running %q waiting %q, want none", log.running, log.waiting)
			}
		})
	}
}

func TestEngineDeterministic(t *testing.T) {
	run := func() string {
		p := testProfile()
		p.NumGPUBlocks, p.MaxModelLen, p.MaxNumSeqs = 64, 256, 4
		e, _ := newTestEngine(p)
		for i := range 12 {
			e.submit(testRequest(p, distinctText(i%5, 20+i*7), []string{"", "a", "b"}[i%3], 10+i))
		}
		var trace strings.Builder
		for d := step(e); d > 0; d = step(e) {
			fmt.Fprintf(&trace, "%d/%d/%d ", d, len(e.running), len(e.waiting))
		}
		return trace.String()
	}
	first, second := run(), run()
	if first != second {
		t.Errorf("two runs differ:\n%s\n%s", first, second)
	}
}
