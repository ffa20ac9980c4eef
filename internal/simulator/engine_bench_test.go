package simulator

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkEngine simulates 1,000 chat-like requests (a shared 512-token
// system prompt, 128 distinct tokens, 128 output tokens) on the default
// profile, with the vLLM metrics, on the caller's goroutine.
//
//	go test -run '^$' -bench BenchmarkEngine -benchmem ./internal/simulator
func BenchmarkEngine(b *testing.B) {
	cfg := DefaultConfig()
	p := cfg.Profile
	system := strings.Repeat("Be precise. ", 187)[:2048]
	salt := hashSalt(cfg.Model, "")
	prompts := make([]prompt, 1000)
	for i := range prompts {
		prompts[i] = newPrompt(padTokens([]byte(system+distinctText(i, 128)), ' '), p.BlockSize, salt, 1)
	}
	var steps int
	var modelTime float64
	for b.Loop() {
		e := newEngine(p, nil, 1, newVLLMMetrics(prometheus.NewRegistry(), &cfg))
		for _, pr := range prompts {
			e.submit(newRequest("", pr, 128, finishLength))
		}
		for {
			e.drain()
			d := e.schedule()
			if len(e.batch) == 0 {
				break
			}
			e.finishStep(e.now + d)
			e.publishState()
			steps++
		}
		modelTime += e.now.Seconds()
	}
	b.ReportMetric(float64(steps)/float64(b.N), "steps/op")
	b.ReportMetric(modelTime/float64(b.N), "model-s/op")
}
