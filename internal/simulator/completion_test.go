package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wholeResponse is a non-streamed completion or chat completion.
type wholeResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int     `json:"index"`
		Text    *string `json:"text"`
		Message *struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage usage `json:"usage"`
}

// text returns the first choice's text or message content.
func (r *wholeResponse) text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	if c := r.Choices[0]; c.Message != nil {
		return c.Message.Content
	} else if c.Text != nil {
		return *c.Text
	}
	return ""
}

func TestWholeResponse(t *testing.T) {
	cfg := fastConfig()
	cfg.DefaultMaxTokens = 7
	cfg.LoRAs = []string{"sql-lora"}
	ts := startServer(t, cfg)
	tests := []struct {
		name         string
		path, body   string
		wantObject   string
		wantIDPrefix string
		wantModel    string
		wantPrompt   int
		wantTokens   int
		wantReason   string
		wantRole     string
	}{
		{
			name: "completion with max_tokens", path: "/v1/completions",
			body:       `{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"hello world!","max_tokens":5}`,
			wantObject: "text_completion", wantIDPrefix: "cmpl-", wantModel: "meta-llama/Llama-3.1-8B-Instruct",
			wantPrompt: 3, wantTokens: 5, wantReason: "length",
		},
		{
			name: "completion with the default length", path: "/v1/completions",
			body:       `{"model":"sql-lora","prompt":[1,2,3,4,5]}`,
			wantObject: "text_completion", wantIDPrefix: "cmpl-", wantModel: "sql-lora",
			wantPrompt: 5, wantTokens: 7, wantReason: "stop",
		},
		{
			name: "chat with max_completion_tokens", path: "/v1/chat/completions",
			body:       `{"model":"sql-lora","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":3,"max_tokens":9}`,
			wantObject: "chat.completion", wantIDPrefix: "chatcmpl-", wantModel: "sql-lora",
			// "<|user|>" + "hi" + "<|eot|>" padded to 20 bytes, "<|assistant|>" padded to 16.
			wantPrompt: 9, wantTokens: 3, wantReason: "length", wantRole: "assistant",
		},
		{
			name: "chat with content parts", path: "/v1/chat/completions",
			body: `{"model":"sql-lora","messages":[{"role":"user","content":[{"type":"text","text":"hi"},` +
				`{"type":"image_url","image_url":{"url":"x"}}]}],"max_tokens":2}`,
			wantObject: "chat.completion", wantIDPrefix: "chatcmpl-", wantModel: "sql-lora",
			wantPrompt: 9, wantTokens: 2, wantReason: "length", wantRole: "assistant",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, header, data := ts.post(t, tc.path, tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, data)
			}
			if got := header.Get("x-inference-pod"); got != "sim-test" {
				t.Errorf("x-inference-pod = %q", got)
			}
			if got := header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			var r wholeResponse
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.ID, tc.wantIDPrefix) || r.Created == 0 || r.Object != tc.wantObject || r.Model != tc.wantModel {
				t.Errorf("id %q created %d object %q model %q", r.ID, r.Created, r.Object, r.Model)
			}
			if len(r.Choices) != 1 || r.Choices[0].FinishReason != tc.wantReason {
				t.Fatalf("choices = %s, want one with finish_reason %q", data, tc.wantReason)
			}
			if tc.wantRole != "" && (r.Choices[0].Message == nil || r.Choices[0].Message.Role != tc.wantRole) {
				t.Errorf("message = %s, want role %q", data, tc.wantRole)
			}
			if got := len(r.text()); got != tc.wantTokens*bytesPerToken {
				t.Errorf("text %q has %d bytes, want %d tokens of %d bytes", r.text(), got, tc.wantTokens, bytesPerToken)
			}
			want := usage{PromptTokens: tc.wantPrompt, CompletionTokens: tc.wantTokens, TotalTokens: tc.wantPrompt + tc.wantTokens}
			if diff := cmp.Diff(want, r.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

// streamChunk is one streamed chunk, with usage kept raw to tell null from
// absent.
type streamChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta *struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
}

// streamResult is a parsed stream.
type streamResult struct {
	chunks  []streamChunk
	hasKey  []bool // whether each chunk has a "usage" key
	text    string
	reasons []string // finish reasons, in order
	roles   int
	usage   *usage
}

// stream posts body (which must ask for streaming) and parses the events.
func (ts *testServer) stream(t *testing.T, path, body string) streamResult {
	t.Helper()
	resp, err := http.Post(ts.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Header.Get("x-inference-pod"); got != "sim-test" {
		t.Errorf("x-inference-pod = %q", got)
	}
	events := readEvents(t, resp.Body)
	if len(events) == 0 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", events)
	}
	var res streamResult
	var text strings.Builder
	for i, ev := range events[:len(events)-1] {
		if ev == "[DONE]" {
			t.Fatalf("[DONE] at event %d of %d", i, len(events))
		}
		var c streamChunk
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		var keys map[string]json.RawMessage
		_ = json.Unmarshal([]byte(ev), &keys)
		_, has := keys["usage"]
		res.chunks, res.hasKey = append(res.chunks, c), append(res.hasKey, has)
		if len(c.Choices) == 0 && has && string(c.Usage) != "null" {
			var u usage
			if err := json.Unmarshal(c.Usage, &u); err != nil {
				t.Fatal(err)
			}
			res.usage = &u
		}
		for _, ch := range c.Choices {
			switch {
			case ch.Delta != nil:
				if ch.Delta.Role != nil {
					res.roles++
				}
				if ch.Delta.Content != nil {
					text.WriteString(*ch.Delta.Content)
				}
			case ch.Text != nil:
				text.WriteString(*ch.Text)
			}
			if ch.FinishReason != nil {
				res.reasons = append(res.reasons, *ch.FinishReason)
			}
		}
	}
	res.text = text.String()
	return res
}

func TestStreaming(t *testing.T) {
	cfg := fastConfig()
	ts := startServer(t, cfg)
	const model = `"model":"meta-llama/Llama-3.1-8B-Instruct"`
	tests := []struct {
		name         string
		path         string
		request      string // without stream fields
		includeUsage bool
		wantObject   string
		wantTokens   int
	}{
		{name: "completion", path: "/v1/completions", request: `{` + model + `,"prompt":"tell me","max_tokens":6`,
			wantObject: "text_completion", wantTokens: 6},
		{name: "completion with usage", path: "/v1/completions", request: `{` + model + `,"prompt":"tell me","max_tokens":6`,
			includeUsage: true, wantObject: "text_completion", wantTokens: 6},
		{name: "chat", path: "/v1/chat/completions",
			request:    `{` + model + `,"messages":[{"role":"user","content":"tell me"}],"max_tokens":5`,
			wantObject: "chat.completion.chunk", wantTokens: 5},
		{name: "chat with usage", path: "/v1/chat/completions",
			request:      `{` + model + `,"messages":[{"role":"user","content":"tell me"}],"max_tokens":5`,
			includeUsage: true, wantObject: "chat.completion.chunk", wantTokens: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			streamFields := `,"stream":true}`
			if tc.includeUsage {
				streamFields = `,"stream":true,"stream_options":{"include_usage":true}}`
			}
			res := ts.stream(t, tc.path, tc.request+streamFields)

			// The same request unstreamed gives the same text and usage.
			status, _, data := ts.post(t, tc.path, tc.request+"}")
			if status != http.StatusOK {
				t.Fatalf("unstreamed: status %d", status)
			}
			var whole wholeResponse
			if err := json.Unmarshal(data, &whole); err != nil {
				t.Fatal(err)
			}
			if res.text != whole.text() || len(res.text) != tc.wantTokens*bytesPerToken {
				t.Errorf("streamed text %q, unstreamed %q, want %d tokens", res.text, whole.text(), tc.wantTokens)
			}
			if diff := cmp.Diff([]string{"length"}, res.reasons); diff != "" {
				t.Errorf("finish reasons (-want +got):\n%s", diff)
			}
			first := res.chunks[0]
			tokenChunks := 0
			for i, c := range res.chunks {
				if c.ID != first.ID || c.Created != first.Created || c.Object != tc.wantObject || c.Model != first.Model {
					t.Errorf("chunk %d: id %q created %d object %q model %q differ from the first chunk or %q",
						i, c.ID, c.Created, c.Object, c.Model, tc.wantObject)
				}
				isUsage := len(c.Choices) == 0
				if isUsage && i != len(res.chunks)-1 {
					t.Errorf("chunk %d has no choices but is not the last chunk", i)
				}
				if !isUsage && c.Choices[0].FinishReason != nil && i != len(res.chunks)-1-btoi(tc.includeUsage) {
					t.Errorf("chunk %d carries the finish reason but is not the last token chunk", i)
				}
				switch {
				case !tc.includeUsage && res.hasKey[i]:
					t.Errorf("chunk %d has a usage key although usage was not asked for", i)
				case tc.includeUsage && !res.hasKey[i]:
					t.Errorf("chunk %d lacks the usage key", i)
				case tc.includeUsage && !isUsage && string(c.Usage) != "null":
					t.Errorf("chunk %d: usage %s, want null", i, c.Usage)
				}
				if !isUsage && (c.Choices[0].Text != nil || c.Choices[0].Delta != nil && c.Choices[0].Delta.Role == nil) {
					tokenChunks++
				}
			}
			if tokenChunks != tc.wantTokens {
				t.Errorf("%d token chunks, want %d (one per token)", tokenChunks, tc.wantTokens)
			}
			if tc.wantObject == "chat.completion.chunk" && (res.roles != 1 || res.chunks[0].Choices[0].Delta.Role == nil) {
				t.Errorf("%d role deltas, want exactly one, in the first chunk", res.roles)
			}
			if !tc.includeUsage {
				if res.usage != nil {
					t.Errorf("usage chunk sent without include_usage")
				}
				return
			}
			if res.usage == nil {
				t.Fatal("no usage chunk")
			}
			if diff := cmp.Diff(whole.Usage, *res.usage); diff != "" {
				t.Errorf("usage chunk differs from the unstreamed usage (-unstreamed +streamed):\n%s", diff)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCachedTokensOnSharedPrefix(t *testing.T) {
	ts := startServer(t, fastConfig())
	system := strings.Repeat("You are a helpful assistant. ", 69)[:2000]
	body := func(question string) string {
		return fmt.Sprintf(`{"model":"meta-llama/Llama-3.1-8B-Instruct","max_tokens":2,"stream":true,`+
			`"stream_options":{"include_usage":true},"messages":[{"role":"system","content":%q},{"role":"user","content":%q}]}`,
			system, question)
	}
	first := ts.stream(t, "/v1/chat/completions", body("q1"))
	second := ts.stream(t, "/v1/chat/completions", body("q2"))
	if first.usage == nil || second.usage == nil {
		t.Fatal("missing usage chunk")
	}
	// The requests share "<|system|>" (padded to 12 bytes), the 2000-byte
	// system prompt, "<|eot|>" (padded to 8) and "<|user|>" (8): 2028 bytes,
	// 507 tokens, of which 31 whole 16-token blocks are cached.
	if got := first.usage.PromptTokensDetails.CachedTokens; got != 0 {
		t.Errorf("first request: cached_tokens = %d, want 0", got)
	}
	if got := second.usage.PromptTokensDetails.CachedTokens; got != 31*16 {
		t.Errorf("second request: cached_tokens = %d, want %d", got, 31*16)
	}
	if first.usage.PromptTokens != second.usage.PromptTokens {
		t.Errorf("prompt tokens %d and %d differ", first.usage.PromptTokens, second.usage.PromptTokens)
	}
}
