package openai

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   Usage
		wantOK bool
	}{
		{
			name: "chat completion",
			in: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,` +
				`"message":{"role":"assistant","content":"{\"usage\":{\"prompt_tokens\":999}}"},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":12,"total_tokens":20,"completion_tokens":8,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},` +
				`"completion_tokens_details":{"reasoning_tokens":2}},"prompt_logprobs":null}`,
			want:   Usage{PromptTokens: 12, CompletionTokens: 8, TotalTokens: 20, CachedTokens: 4},
			wantOK: true,
		},
		{
			name:   "embeddings",
			in:     `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2e-3]}],"model":"e","usage":{"prompt_tokens":5,"total_tokens":5}}`,
			want:   Usage{PromptTokens: 5, TotalTokens: 5},
			wantOK: true,
		},
		{
			name:   "singular details spelling (what the upstream picker reads)",
			in:     `{"usage":{"prompt_tokens":3,"prompt_token_details":{"cached_tokens":2}}}`,
			want:   Usage{PromptTokens: 3, CachedTokens: 2},
			wantOK: true,
		},
		{
			name:   "spec spelling wins over singular",
			in:     `{"usage":{"prompt_token_details":{"cached_tokens":1},"prompt_tokens_details":{"cached_tokens":7}}}`,
			want:   Usage{CachedTokens: 7},
			wantOK: true,
		},
		{
			name:   "null details fall back to singular",
			in:     `{"usage":{"prompt_tokens_details":null,"prompt_token_details":{"cached_tokens":1}}}`,
			want:   Usage{CachedTokens: 1},
			wantOK: true,
		},
		{
			name:   "null cached tokens",
			in:     `{"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":null}}}`,
			want:   Usage{PromptTokens: 1},
			wantOK: true,
		},
		{
			name:   "non-integer counts are zero",
			in:     `{"usage":{"prompt_tokens":1.5,"completion_tokens":"2","total_tokens":-3}}`,
			wantOK: true,
		},
		{
			name:   "duplicate usage: last wins",
			in:     `{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`,
			want:   Usage{PromptTokens: 2},
			wantOK: true,
		},
		{name: "usage null", in: `{"choices":[],"usage":null}`},
		{name: "usage overridden by null", in: `{"usage":{"prompt_tokens":1},"usage":null}`},
		{name: "usage not an object", in: `{"usage":[1,2]}`},
		{name: "no usage", in: `{"choices":[{"usage":{"prompt_tokens":1}}]}`},
		{name: "invalid JSON after usage", in: `{"usage":{"prompt_tokens":1},}`},
		{name: "truncated", in: `{"usage":{"prompt_tokens":1}`},
		{name: "not an object", in: `[{"usage":{"prompt_tokens":1}}]`},
		{name: "DONE", in: `[DONE]`},
		{name: "empty", in: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseUsage([]byte(tc.in))
			if ok != tc.wantOK {
				t.Fatalf("ParseUsage ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseUsage (-want +got):\n%s", diff)
			}
		})
	}
}

// stdUsage computes with encoding/json what ParseUsage should return.
func stdUsage(t *testing.T, b []byte) (Usage, bool) {
	m := decodeMap(t, b)
	u, ok := m["usage"].(map[string]any)
	if !ok {
		return Usage{}, false
	}
	cached := func(key string) (int, bool) {
		d, ok := u[key].(map[string]any)
		if !ok || d["cached_tokens"] == nil {
			return 0, false
		}
		return stdCount(d["cached_tokens"]), true
	}
	want := Usage{
		PromptTokens:     stdCount(u["prompt_tokens"]),
		CompletionTokens: stdCount(u["completion_tokens"]),
		TotalTokens:      stdCount(u["total_tokens"]),
	}
	if c, ok := cached("prompt_tokens_details"); ok {
		want.CachedTokens = c
	} else if c, ok := cached("prompt_token_details"); ok {
		want.CachedTokens = c
	}
	return want, true
}

// FuzzParseUsage checks ParseUsage never panics, only succeeds on valid JSON
// objects, and agrees with encoding/json. It also runs the tail search over
// the same bytes.
func FuzzParseUsage(f *testing.F) {
	f.Add([]byte(`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1}}}`))
	f.Add([]byte(`{"usage":{"prompt_token_details":{"cached_tokens":5}},"x":"\"usage\":{}"}`))
	f.Add([]byte(`{"usage":null,"usage":{"total_tokens":1e3}}`))
	f.Add([]byte(`x,"usage" : {"prompt_tokens":9}`))
	f.Add([]byte(`{"usage":{"prompt_tokens":1},`))
	f.Add([]byte(`{"choices":[{"delta":{"content":"x"}}],"usage" : null}`))
	f.Add([]byte(`{"choices":[],"usage":null,"us\u0061ge":{"total_tokens":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseUsage(b)
		_, _ = findUsage(b)
		if plainContent(b) && ok {
			t.Fatalf("plainContent says no usage, ParseUsage found %+v", got)
		}
		if !ok {
			if got != (Usage{}) {
				t.Fatalf("ParseUsage returned %+v with ok=false", got)
			}
			if isJSONObject(b) {
				if _, stdOK := stdUsage(t, b); stdOK {
					t.Fatalf("ParseUsage missed the usage object encoding/json finds")
				}
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("ParseUsage accepted invalid JSON %q", b)
		}
		want, stdOK := stdUsage(t, b)
		if !stdOK {
			t.Fatalf("ParseUsage found usage encoding/json does not")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ParseUsage disagrees with encoding/json (-std +ours):\n%s", diff)
		}
	})
}
