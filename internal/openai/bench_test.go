package openai

import (
	"encoding/json"
	"strconv"
	"testing"
)

// BenchmarkParseRequest measures the single-pass parser on chat bodies of
// 1 KB and 220 KB, next to encoding/json decoding the same body into a map
// (what the upstream endpoint picker does, before its second typed decode).
//
//	go test ./internal/openai -run '^$' -bench 'ParseRequest|Rewrite|StreamObserver' -benchmem -count 6
func BenchmarkParseRequest(b *testing.B) {
	for _, size := range []int{1 << 10, 220 << 10} {
		body := chatBody(size)
		name := strconv.Itoa(size>>10) + "KB"
		b.Run(name+"/scan", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseRequest(body, KindChatCompletions); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/json.Unmarshal-map", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/json.Valid", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !json.Valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkRewrite measures changing the model and forcing usage on a 220 KB
// chat body: one allocation and two copies.
//
//	go test ./internal/openai -run '^$' -bench Rewrite -benchmem
func BenchmarkRewrite(b *testing.B) {
	body := chatBody(220 << 10)
	r, err := ParseRequest(body, KindChatCompletions)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = r.Rewrite(body, "meta-llama/Llama-3.1-70B-Instruct", true)
	}
}

// BenchmarkStreamObserver measures a 500-token chat stream fed one event per
// read (how vLLM flushes) and in 37-byte reads (events split across reads).
//
//	go test ./internal/openai -run '^$' -bench StreamObserver -benchmem
func BenchmarkStreamObserver(b *testing.B) {
	stream := vllmStream(false, 500)
	for _, tc := range []struct {
		name   string
		chunks [][]byte
	}{
		{name: "event-reads", chunks: splitEvents(stream)},
		{name: "37B-reads", chunks: splitEvery(stream, 37)},
	} {
		for _, strip := range []bool{false, true} {
			b.Run(tc.name+"/strip="+strconv.FormatBool(strip), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(stream)))
				dst := make([]byte, 0, 64<<10)
				for b.Loop() {
					o := NewStreamObserver(strip)
					for _, c := range tc.chunks {
						dst, _ = o.Process(dst[:0], c)
					}
					dst = o.Flush(dst[:0])
				}
			})
		}
	}
}

// splitEvents cuts an LF-framed stream after each "\n\n".
func splitEvents(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 1; i < len(b); i++ {
		if b[i] == '\n' && b[i-1] == '\n' {
			out = append(out, b[start:i+1])
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
