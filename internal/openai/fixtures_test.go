package openai

import (
	"strconv"
	"strings"
)

// chatBody returns a chat completions request of about size bytes, shaped
// like real traffic: a system prompt and alternating turns whose content has
// escapes, quotes, braces and non-ASCII text.
func chatBody(size int) []byte {
	const para = `You are a helpful assistant. Answer \"precisely\" and cite {sources} when you can; ` +
		`use JSON like {\"k\": [1, 2]} if asked.\nLes données sont prêtes — 数据已准备好. `
	var b strings.Builder
	b.Grow(size + 512)
	b.WriteString(`{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"system","content":"`)
	b.WriteString(para)
	b.WriteString(`"}`)
	roles := [2]string{"user", "assistant"}
	for turn := 0; b.Len() < size-200; turn++ {
		b.WriteString(`,{"role":"`)
		b.WriteString(roles[turn%2])
		b.WriteString(`","content":"`)
		for j := 0; j < 1+turn%4 && b.Len() < size-200; j++ {
			b.WriteString(para)
		}
		b.WriteString(`"}`)
	}
	b.WriteString(`],"stream":true,"max_tokens":512,"temperature":0.7,"top_p":0.95,"stop":["</s>"],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",` +
		`"properties":{"city":{"type":"string"}},"required":["city"]}}}],"user":"u-123"}`)
	return []byte(b.String())
}

// vllmStream returns a chat completion stream as vLLM sends it with
// stream_options.include_usage: a role chunk, one chunk per token, a finish
// chunk, the usage-only chunk and [DONE]. crlf switches to CRLF framing.
func vllmStream(crlf bool, tokens int) []byte {
	var b strings.Builder
	const head = `data: {"id":"chatcmpl-7f3a","object":"chat.completion.chunk","created":1718000000,"model":"llama",`
	b.WriteString(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	for i := range tokens {
		b.WriteString(head + `"choices":[{"index":0,"delta":{"content":" tok` + strconv.Itoa(i) +
			` \"q\" {}"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	}
	b.WriteString(head + `"choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":null}` + "\n\n")
	b.WriteString(usageEvent)
	b.WriteString("data: [DONE]\n\n")
	s := b.String()
	if crlf {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	return []byte(s)
}

// usageEvent is the usage-only chunk of vllmStream.
const usageEvent = `data: {"id":"chatcmpl-7f3a","object":"chat.completion.chunk","created":1718000000,"model":"llama",` +
	`"choices":[],"usage":{"prompt_tokens":42,"total_tokens":49,"completion_tokens":7,` +
	`"prompt_tokens_details":{"cached_tokens":16}}}` + "\n\n"

// vllmStreamUsage is the usage in usageEvent.
var vllmStreamUsage = Usage{PromptTokens: 42, CompletionTokens: 7, TotalTokens: 49, CachedTokens: 16}

// splitEvery cuts b into chunks of n bytes (the last may be shorter).
func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}
