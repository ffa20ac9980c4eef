package openai

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bigResponse is a non-streamed chat completion with a long answer, a fake
// usage object inside the content, and members after the real usage.
func bigResponse() string {
	return `{"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":` +
		`{"role":"assistant","content":"` + strings.Repeat(`lorem \"usage\": {\"prompt_tokens\": 1} ipsum `, 400) +
		`"},"logprobs":null,"finish_reason":"stop"}],"service_tier":null,"system_fingerprint":null,` +
		`"usage":{"prompt_tokens":812,"total_tokens":1312,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":256}},` +
		`"prompt_logprobs":null,"prompt_token_ids":null,"kv_transfer_params":"\"usage\":{\"prompt_tokens\":5}"}`
}

func TestUsageTail(t *testing.T) {
	t.Parallel()
	resp := bigResponse()
	want := Usage{PromptTokens: 812, CompletionTokens: 500, TotalTokens: 1312, CachedTokens: 256}
	usageAt := strings.LastIndex(resp, `,"usage":{`)
	tests := []struct {
		name   string
		size   int
		chunk  int
		wantOK bool
	}{
		{name: "default size, one write", size: 0, chunk: len(resp), wantOK: true},
		{name: "default size, small writes", size: 0, chunk: 7, wantOK: true},
		{name: "ring wraps inside the usage object", size: 1000, chunk: 3, wantOK: true},
		{name: "byte writes", size: 512, chunk: 1, wantOK: true},
		{name: "writes larger than the tail", size: 512, chunk: 5000, wantOK: true},
		{name: "tail starts exactly at the comma before usage", size: len(resp) - usageAt, chunk: 100, wantOK: true},
		{name: "tail starts at the usage key", size: len(resp) - usageAt - 1, chunk: 100, wantOK: true},
		{name: "tail starts inside the usage key", size: len(resp) - usageAt - 2, chunk: 100, wantOK: false},
		{name: "tail cuts the usage object", size: len(resp) - usageAt - 30, chunk: 64, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tail := NewUsageTail(tc.size)
			for rest := resp; len(rest) > 0; {
				n := min(tc.chunk, len(rest))
				if w, err := tail.Write([]byte(rest[:n])); w != n || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", w, err, n)
				}
				rest = rest[n:]
			}
			size := tc.size
			if size <= 0 {
				size = DefaultUsageTailSize
			}
			if got := string(tail.Bytes()); got != resp[len(resp)-size:] {
				t.Fatalf("Bytes() is not the last %d bytes", size)
			}
			got, ok := tail.Usage()
			if ok != tc.wantOK {
				t.Fatalf("Usage ok = %v, want %v (got %+v)", ok, tc.wantOK, got)
			}
			if ok {
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Usage (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestUsageTailShortResponse(t *testing.T) {
	t.Parallel()
	tail := NewUsageTail(64)
	if _, ok := tail.Usage(); ok {
		t.Error("empty tail reported usage")
	}
	_, _ = tail.Write([]byte(`{"usage":{"total_tokens":3}}`))
	if got, ok := tail.Usage(); !ok || got.TotalTokens != 3 {
		t.Errorf("Usage = %+v, %v; want TotalTokens 3", got, ok)
	}
	_, _ = tail.Write([]byte(`{"usage":null}`))
	if got, ok := tail.Usage(); !ok || got.TotalTokens != 3 {
		t.Errorf("after a null usage, Usage = %+v, %v; want the earlier object", got, ok)
	}
}

// FuzzUsageTail writes an upstream response body in arbitrary chunks to a
// UsageTail of arbitrary size. The tail holds exactly the body's last n
// bytes whatever the chunking, its usage does not depend on the chunking,
// and a usage object that ends the body and fits the tail is found with
// its numbers.
func FuzzUsageTail(f *testing.F) {
	f.Add([]byte(`{"id":"x","choices":[]`), uint16(64), uint8(3), uint32(3), uint32(1))
	f.Add([]byte(`"usage":{"prompt_tokens":1}, "usage":`), uint16(1), uint8(0), uint32(0), uint32(0))
	f.Add([]byte{}, uint16(4096), uint8(255), uint32(1<<31), uint32(7))
	f.Fuzz(func(t *testing.T, prefix []byte, size uint16, chunk uint8, prompt, completion uint32) {
		n := int(size%8192) + 1
		body := fmt.Appendf(append([]byte(nil), prefix...), `,"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
			prompt, completion, uint64(prompt)+uint64(completion))
		whole := NewUsageTail(n)
		whole.Write(body)
		chunked := NewUsageTail(n)
		step := int(chunk) + 1
		for rest := body; len(rest) > 0; {
			k := min(step, len(rest))
			if m, err := chunked.Write(rest[:k]); m != k || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", m, err, k)
			}
			rest = rest[k:]
		}
		want := body[max(len(body)-n, 0):]
		if got := chunked.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("chunked tail %q, want the last %d bytes %q", got, n, want)
		}
		if got := whole.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("tail %q, want the last %d bytes %q", got, n, want)
		}
		u1, ok1 := whole.Usage()
		u2, ok2 := chunked.Usage()
		if u1 != u2 || ok1 != ok2 {
			t.Fatalf("usage depends on chunking: %+v %v vs %+v %v", u1, ok1, u2, ok2)
		}
		objLen := len(body) - bytes.LastIndex(body, []byte(`"usage"`))
		if objLen <= n {
			wantU := Usage{PromptTokens: int(prompt), CompletionTokens: int(completion), TotalTokens: int(uint64(prompt) + uint64(completion))}
			if !ok1 || u1 != wantU {
				t.Fatalf("usage %+v %v from the tail %q, want %+v", u1, ok1, whole.Bytes(), wantU)
			}
		}
	})
}
