package simulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name       string
		ep         endpoint
		body       string
		wantErr    string // param of the expected 400, "" for success
		wantTokens int
		wantMax    int
		wantStream bool
		wantUsage  bool
	}{
		{name: "string prompt", ep: endpointCompletions, body: `{"model":"m","prompt":"12345678"}`, wantTokens: 2},
		{name: "prompt padded to whole tokens", ep: endpointCompletions, body: `{"model":"m","prompt":"123456789"}`, wantTokens: 3},
		{name: "one-element string array", ep: endpointCompletions, body: `{"model":"m","prompt":["abcd"]}`, wantTokens: 1},
		{name: "token ids", ep: endpointCompletions, body: `{"model":"m","prompt":[1,2,3]}`, wantTokens: 3},
		{name: "nested token ids", ep: endpointCompletions, body: `{"model":"m","prompt":[[1,2,3,4]]}`, wantTokens: 4},
		{name: "nested empty token ids", ep: endpointCompletions, body: `{"model":"m","prompt":[[]]}`, wantErr: "prompt"},
		{name: "nested string array", ep: endpointCompletions, body: `{"model":"m","prompt":[["a"]]}`, wantErr: "prompt"},
		{name: "mixed array", ep: endpointCompletions, body: `{"model":"m","prompt":[1,"a"]}`, wantErr: "prompt"},
		{name: "stream with usage", ep: endpointCompletions,
			body:       `{"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":true},"max_tokens":9}`,
			wantTokens: 1, wantMax: 9, wantStream: true, wantUsage: true},
		{name: "max_completion_tokens wins", ep: endpointChat,
			body:       `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9,"max_completion_tokens":4}`,
			wantTokens: 9, wantMax: 4},
		{name: "null content", ep: endpointChat,
			body:       `{"model":"m","messages":[{"role":"assistant","content":null}]}`,
			wantTokens: 10}, // "<|assistant|>" padded to 16 bytes, "<|eot|>" to 8, then "<|assistant|>" again
		{name: "not json", ep: endpointCompletions, body: `hello`, wantErr: "-"},
		{name: "array body", ep: endpointCompletions, body: `[1]`, wantErr: "-"},
		{name: "missing model", ep: endpointCompletions, body: `{"prompt":"x"}`, wantErr: "model"},
		{name: "model not a string", ep: endpointCompletions, body: `{"model":1,"prompt":"x"}`, wantErr: "model"},
		{name: "missing prompt", ep: endpointCompletions, body: `{"model":"m"}`, wantErr: "prompt"},
		{name: "empty prompt", ep: endpointCompletions, body: `{"model":"m","prompt":""}`, wantErr: "prompt"},
		{name: "empty token list", ep: endpointCompletions, body: `{"model":"m","prompt":[]}`, wantErr: "prompt"},
		{name: "two prompts", ep: endpointCompletions, body: `{"model":"m","prompt":["a","b"]}`, wantErr: "prompt"},
		{name: "negative token", ep: endpointCompletions, body: `{"model":"m","prompt":[-1]}`, wantErr: "prompt"},
		{name: "prompt object", ep: endpointCompletions, body: `{"model":"m","prompt":{}}`, wantErr: "prompt"},
		{name: "zero max_tokens", ep: endpointCompletions, body: `{"model":"m","prompt":"x","max_tokens":0}`, wantErr: "max_tokens"},
		{name: "fractional max_tokens", ep: endpointCompletions, body: `{"model":"m","prompt":"x","max_tokens":1.5}`, wantErr: "max_tokens"},
		{name: "n of two", ep: endpointCompletions, body: `{"model":"m","prompt":"x","n":2}`, wantErr: "n"},
		{name: "stream options without stream", ep: endpointCompletions,
			body: `{"model":"m","prompt":"x","stream_options":{"include_usage":true}}`, wantErr: "stream_options"},
		{name: "no messages", ep: endpointChat, body: `{"model":"m","messages":[]}`, wantErr: "messages"},
		{name: "message without role", ep: endpointChat, body: `{"model":"m","messages":[{"content":"x"}]}`, wantErr: "messages"},
		{name: "numeric content", ep: endpointChat, body: `{"model":"m","messages":[{"role":"user","content":5}]}`, wantErr: "messages"},
		{name: "messages not an array", ep: endpointChat, body: `{"model":"m","messages":"hi"}`, wantErr: "messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRequest(tc.ep, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("parsed %+v, want a 400 about %q", got, tc.wantErr)
				}
				if err.status != http.StatusBadRequest {
					t.Errorf("status %d, want 400", err.status)
				}
				if tc.wantErr != "-" && err.param != tc.wantErr {
					t.Errorf("param %q (%s), want %q", err.param, err.message, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got.model != "m" || got.stream != tc.wantStream || got.includeUsage != tc.wantUsage || got.maxTokens != tc.wantMax {
				t.Errorf("parsed %+v", got)
			}
			if len(got.text)%bytesPerToken != 0 || len(got.text)/bytesPerToken != tc.wantTokens {
				t.Errorf("prompt stream of %d bytes, want %d tokens", len(got.text), tc.wantTokens)
			}
		})
	}
}

func TestSharedLeadingBytesShareBlocks(t *testing.T) {
	const bs = 16
	salt := hashSalt("m", "")
	system := strings.Repeat("You are terse. ", 40) // 600 bytes
	a, errA := chatText([]chatMessage{{Role: "system", Content: []byte(`"` + system + `"`)}, {Role: "user", Content: []byte(`"first"`)}})
	b, errB := chatText([]chatMessage{{Role: "system", Content: []byte(`"` + system + `"`)}, {Role: "user", Content: []byte(`"second question"`)}})
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	same := 0
	for same < min(len(a), len(b)) && a[same] == b[same] {
		same++
	}
	pa, pb := newPrompt(a, bs, salt, 1), newPrompt(b, bs, salt, 1)
	wantShared := same / (bs * bytesPerToken)
	shared := 0
	for shared < min(len(pa.hashes), len(pb.hashes)) && pa.hashes[shared] == pb.hashes[shared] {
		shared++
	}
	if shared != wantShared {
		t.Errorf("%d leading blocks shared, want %d (%d identical leading bytes)", shared, wantShared, same)
	}
	if other := newPrompt(a, bs, hashSalt("m", "adapter"), 1); other.hashes[0] == pa.hashes[0] {
		t.Error("an adapter's blocks hash like the base model's")
	}
}

func FuzzParseRequest(f *testing.F) {
	seeds := []string{
		`{"model":"m","prompt":"hello"}`,
		`{"model":"m","prompt":[1,2,3],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","prompt":[[1,2]]}`,
		`{"model":"m","prompt":["a"]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":3}`,
		`{"model":"m","prompt":{"x":1}}`,
		`{"model":`,
		`null`,
		`[]`,
		"\x00\xff",
	}
	for _, s := range seeds {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		got, err := parseRequest(endpoint(ep%2), body)
		if err != nil {
			if err.status != http.StatusBadRequest || err.message == "" {
				t.Fatalf("error %+v, want a 400 with a message", err)
			}
			return
		}
		if got.model == "" || len(got.text) == 0 || len(got.text)%bytesPerToken != 0 || got.maxTokens < 0 {
			t.Fatalf("accepted an invalid request: %+v", got)
		}
	})
}
