package openai

import (
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
