package simulator

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testProfile is a small profile with round numbers, for engine tests.
func testProfile() Profile {
	return Profile{
		Name:                "test",
		MaxModelLen:         1024,
		MaxNumSeqs:          8,
		MaxNumBatchedTokens: 512,
		BlockSize:           4,
		NumGPUBlocks:        1024,
		MaxLoRAs:            2,
		StepTime:            time.Millisecond,
		PrefillTokenTime:    10 * time.Microsecond,
		DecodeSeqTime:       100 * time.Microsecond,
		ContextTokenTime:    0,
		LoRALoadTime:        50 * time.Millisecond,
	}
}

// eventLog is a recorder that remembers what the engine reported.
type eventLog struct {
	cached      []int
	preemptions int
	reasons     map[string]int
	last        engineState
	maxWaiting  int
	running     string
	waiting     string
}

func (l *eventLog) admitted(_ *request, cachedTokens int) { l.cached = append(l.cached, cachedTokens) }
func (l *eventLog) firstToken(*request)                   {}
func (l *eventLog) nextToken(time.Duration)               {}
func (l *eventLog) preempted()                            { l.preemptions++ }
func (l *eventLog) finished(_ *request, reason string) {
	if l.reasons == nil {
		l.reasons = make(map[string]int)
	}
	l.reasons[reason]++
}

func (l *eventLog) state(s engineState) {
	l.last = s
	l.maxWaiting = max(l.maxWaiting, s.waiting)
	if s.adaptersChanged {
		l.running, l.waiting = s.runningAdapters, s.waitingAdapters
	}
}

// newTestEngine returns an engine driven by the test (no goroutine).
func newTestEngine(p Profile, preloaded ...string) (*engine, *eventLog) {
	log := &eventLog{}
	return newEngine(p, preloaded, 1, log), log
}

// testRequest returns a request for text (padded to whole tokens).
func testRequest(p Profile, text, adapter string, maxTokens int) *request {
	stream := padTokens([]byte(text), ' ')
	pr := newPrompt(stream, p.BlockSize, hashSalt("model", adapter), 1)
	return newRequest(adapter, pr, maxTokens, finishLength)
}

// step runs one engine step synchronously and returns its model duration
// (0 when there was nothing to run).
func step(e *engine) time.Duration {
	e.drain()
	d := e.schedule()
	if len(e.batch) > 0 {
		e.stepStart = e.now
		e.finishStep(e.now + d)
	}
	e.publishState()
	return d
}

// runUntilIdle steps until the engine has nothing to do and returns the
// number of steps.
func runUntilIdle(t *testing.T, e *engine) int {
	t.Helper()
	for n := 0; ; n++ {
		if n > 1_000_000 {
			t.Fatal("engine did not become idle")
		}
		if step(e) == 0 {
			return n
		}
	}
}

// words returns a text of n four-byte words.
func words(n int, seed uint64) string {
	b := make([]byte, 0, n*bytesPerToken)
	for i := range n {
		b = appendWord(b, seed, i)
	}
	return string(b)
}
