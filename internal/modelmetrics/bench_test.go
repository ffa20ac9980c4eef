package modelmetrics

import (
	"bytes"
	"testing"

	"github.com/infergate/infergate/internal/pool"
)

// BenchmarkParseModelServerMetrics parses a vLLM V1 exposition with every
// histogram family vLLM emits, the HTTP instrumentation of its API server and
// six vllm:lora_requests_info series of up to 20 adapters (about 60 KiB).
// Sub-benchmarks: Parse is the exported function with fresh buffers per
// call; loop is what a scrape loop does, reusing its parser; full sends the
// whole exposition through the text parser, the baseline the line
// pre-filter is measured against.
//
//	go test ./internal/modelmetrics -run '^$' -bench BenchmarkParseModelServerMetrics -benchmem -count 6
func BenchmarkParseModelServerMetrics(b *testing.B) {
	in := []byte(readTestdata(b, "vllm_v1.txt"))

	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			m, err := Parse(bytes.NewReader(in), pool.EngineVLLM, testNow)
			if err != nil || len(m.ActiveAdapters) != 20 {
				b.Fatalf("Parse = %+v, %v", m, err)
			}
		}
	})
	b.Run("loop", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		p := newParser()
		for b.Loop() {
			if err := p.readBody(bytes.NewReader(in)); err != nil {
				b.Fatal(err)
			}
			m, err := p.metrics(vllmSpec, testNow)
			if err != nil || len(m.ActiveAdapters) != 20 {
				b.Fatalf("metrics = %+v, %v", m, err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			m, err, ok := parseFull(b, in, vllmSpec)
			if !ok || err != nil || len(m.ActiveAdapters) != 20 {
				b.Fatalf("full parse = %+v, %v, %t", m, err, ok)
			}
		}
	})
}
