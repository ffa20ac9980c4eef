package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		body string
		want Request
	}{
		{
			name: "chat streaming with usage",
			kind: KindChatCompletions,
			body: `{"model":"llama-3","messages":[{"role":"user","content":"hi"}],"stream":true,` +
				`"stream_options":{"include_usage":true},"max_tokens":128}`,
			want: Request{Kind: KindChatCompletions, Model: "llama-3", Stream: true, IncludeUsage: true, MaxTokens: 128,
				Prompt: []byte(`[{"role":"user","content":"hi"}]`)},
		},
		{
			name: "completions with string prompt",
			kind: KindCompletions,
			body: `{"prompt":"Once upon a time","model":"m","max_completion_tokens":7,"max_tokens":9}`,
			want: Request{Kind: KindCompletions, Model: "m", MaxTokens: 7, Prompt: []byte(`"Once upon a time"`)},
		},
		{
			name: "completions with token prompt and empty string prompt allowed",
			kind: KindCompletions,
			body: `{"model":"m","prompt":[[1,2,3],[4]]}`,
			want: Request{Kind: KindCompletions, Model: "m", Prompt: []byte(`[[1,2,3],[4]]`)},
		},
		{
			name: "embeddings",
			kind: KindEmbeddings,
			body: `{"model":"e5","input":["a","b"],"encoding_format":"float"}`,
			want: Request{Kind: KindEmbeddings, Model: "e5", Prompt: []byte(`["a","b"]`)},
		},
		{
			name: "other kind needs only model and has no prompt",
			kind: KindOther,
			body: `{"model":"m","input":"x","messages":[]}`,
			want: Request{Kind: KindOther, Model: "m"},
		},
		{
			name: "escapes in model are decoded",
			kind: KindOther,
			body: `{"model":"a\"b\\c\/d\u00e9\ud83d\ude00\n"}`,
			want: Request{Model: "a\"b\\c/dé😀\n"},
		},
		{
			name: "raw UTF-8 in model",
			kind: KindOther,
			body: `{"model":"modèle-日本"}`,
			want: Request{Model: "modèle-日本"},
		},
		{
			name: "invalid UTF-8 in model decodes like encoding/json",
			kind: KindOther,
			body: "{\"model\":\"a\xffb\"}",
			want: Request{Model: "a\uFFFDb"},
		},
		{
			name: "whitespace everywhere",
			kind: KindChatCompletions,
			body: " \t\r\n{ \"model\" \n:\t\"m\" , \"messages\" : [ {\"role\" : \"user\"} ] ,\"stream\" :true }\r\n ",
			want: Request{Kind: KindChatCompletions, Model: "m", Stream: true, Prompt: []byte(`[ {"role" : "user"} ]`)},
		},
		{
			name: "nested members with the same names are ignored",
			kind: KindChatCompletions,
			body: `{"metadata":{"model":"wrong","stream":true,"stream_options":{"include_usage":true}},` +
				`"messages":[{"role":"user","content":"{\"model\":\"x\"} ] [ } { \\ \"}","model":"no"}],` +
				`"tools":[[],[{}],{"a":[1,-2.5e+3,true,false,null]}],"model":"right"}`,
			want: Request{Kind: KindChatCompletions, Model: "right",
				Prompt: []byte(`[{"role":"user","content":"{\"model\":\"x\"} ] [ } { \\ \"}","model":"no"}]`)},
		},
		{
			name: "duplicate keys: last wins",
			kind: KindChatCompletions,
			body: `{"model":"first","stream":true,"stream_options":{"include_usage":true},"messages":[1],` +
				`"model":"second","stream":false,"stream_options":null,"messages":[2],"max_tokens":5,"max_tokens":6}`,
			want: Request{Kind: KindChatCompletions, Model: "second", MaxTokens: 6, Prompt: []byte(`[2]`)},
		},
		{
			name: "duplicate include_usage: last wins",
			kind: KindOther,
			body: `{"model":"m","stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`,
			want: Request{Model: "m", Stream: true},
		},
		{
			name: "escaped keys are decoded",
			kind: KindOther,
			body: `{"mod\u0065l":"m","\u0073tream":true,"stream_options":{"include\u005fusage":true}}`,
			want: Request{Model: "m", Stream: true, IncludeUsage: true},
		},
		{
			name: "keys are case-sensitive",
			kind: KindOther,
			body: `{"model":"m","Stream":true,"STREAM":true}`,
			want: Request{Model: "m"},
		},
		{
			name: "non-boolean stream and include_usage count as false",
			kind: KindOther,
			body: `{"model":"m","stream":"true","stream_options":{"include_usage":1}}`,
			want: Request{Model: "m"},
		},
		{
			name: "max tokens that are not plain integers are 0",
			kind: KindOther,
			body: `{"model":"m","max_completion_tokens":-3,"max_tokens":1.5}`,
			want: Request{Model: "m"},
		},
		{
			name: "max_tokens used when max_completion_tokens is null",
			kind: KindOther,
			body: `{"model":"m","max_completion_tokens":null,"max_tokens":100}`,
			want: Request{Model: "m", MaxTokens: 100},
		},
		{
			name: "huge max_tokens is 0",
			kind: KindOther,
			body: `{"model":"m","max_tokens":123456789012345678901}`,
			want: Request{Model: "m"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRequest([]byte(tc.body), tc.kind)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			tc.want.Kind = tc.kind
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
				t.Errorf("ParseRequest mismatch (-want +got):\n%s", diff)
			}
			checkAgainstStdlib(t, []byte(tc.body), tc.kind, got)
		})
	}
}

func TestParseRequestPromptAliasesBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"m","prompt":"abc"}`)
	r, err := ParseRequest(body, KindCompletions)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)-3] = 'X' // inside "abc"
	if string(r.Prompt) != `"abX"` {
		t.Errorf("Prompt = %s, want a subslice of body", r.Prompt)
	}
	if cap(r.Prompt) != len(r.Prompt) {
		t.Errorf("cap(Prompt) = %d, want %d so appends cannot clobber the body", cap(r.Prompt), len(r.Prompt))
	}
}

func TestParseRequestErrors(t *testing.T) {
	t.Parallel()
	const secret = "sk-SECRET-prompt-text"
	tests := []struct {
		name      string
		kind      Kind
		body      string
		wantCode  string
		wantParam string
	}{
		{name: "empty body", body: ``, wantCode: CodeInvalidJSON},
		{name: "only whitespace", body: " \n\t", wantCode: CodeInvalidJSON},
		{name: "array", body: `[{"model":"m"}]`, wantCode: CodeInvalidJSON},
		{name: "string", body: `"model"`, wantCode: CodeInvalidJSON},
		{name: "truncated", body: `{"model":"m"`, wantCode: CodeInvalidJSON},
		{name: "truncated string", body: `{"model":"m`, wantCode: CodeInvalidJSON},
		{name: "trailing data", body: `{"model":"m"} {}`, wantCode: CodeInvalidJSON},
		{name: "trailing comma", body: `{"model":"m",}`, wantCode: CodeInvalidJSON},
		{name: "missing colon", body: `{"model" "m"}`, wantCode: CodeInvalidJSON},
		{name: "unquoted key", body: `{model:"m"}`, wantCode: CodeInvalidJSON},
		{name: "single quotes", body: `{'model':'m'}`, wantCode: CodeInvalidJSON},
		{name: "bad literal deep inside", body: `{"model":"m","x":[{"a":[tru]}]}`, wantCode: CodeInvalidJSON},
		{name: "bad literal prefix", body: `{"model":"m","x":nul}`, wantCode: CodeInvalidJSON},
		{name: "literal followed by junk", body: `{"model":"m","x":truex}`, wantCode: CodeInvalidJSON},
		{name: "leading zero", body: `{"model":"m","n":01}`, wantCode: CodeInvalidJSON},
		{name: "bare minus", body: `{"model":"m","n":-}`, wantCode: CodeInvalidJSON},
		{name: "fraction without digits", body: `{"model":"m","n":1.}`, wantCode: CodeInvalidJSON},
		{name: "exponent without digits", body: `{"model":"m","n":1e+}`, wantCode: CodeInvalidJSON},
		{name: "plus sign", body: `{"model":"m","n":+1}`, wantCode: CodeInvalidJSON},
		{name: "NaN", body: `{"model":"m","n":NaN}`, wantCode: CodeInvalidJSON},
		{name: "control character in string", body: "{\"model\":\"m\",\"s\":\"a\tb\"}", wantCode: CodeInvalidJSON},
		{name: "bad escape", body: `{"model":"m","s":"\x41"}`, wantCode: CodeInvalidJSON},
		{name: "short unicode escape", body: `{"model":"m","s":"\u12"}`, wantCode: CodeInvalidJSON},
		{name: "non-hex unicode escape", body: `{"model":"m","s":"\u12g4"}`, wantCode: CodeInvalidJSON},
		{name: "unclosed array", body: `{"model":"m","a":[1,2}`, wantCode: CodeInvalidJSON},
		{name: "mismatched close", body: `{"model":"m","a":{"b":1]}`, wantCode: CodeInvalidJSON},
		{name: "array trailing comma", body: `{"model":"m","a":[1,]}`, wantCode: CodeInvalidJSON},
		{name: "byte order mark", body: "\xef\xbb\xbf{\"model\":\"m\"}", wantCode: CodeInvalidJSON},
		{name: "secret after error is not echoed", body: `{"model":"m", "x": ` + secret + `}`, wantCode: CodeInvalidJSON},
		{name: "missing model", body: `{"prompt":"x"}`, wantCode: CodeMissingRequiredParameter, wantParam: "model"},
		{name: "null model", body: `{"model":null}`, wantCode: CodeMissingRequiredParameter, wantParam: "model"},
		{name: "number model", body: `{"model":5}`, wantCode: CodeInvalidType, wantParam: "model"},
		{name: "object model", body: `{"model":{"name":"m"}}`, wantCode: CodeInvalidType, wantParam: "model"},
		{name: "empty model", body: `{"model":""}`, wantCode: CodeInvalidValue, wantParam: "model"},
		{name: "model valid then overridden by null", body: `{"model":"m","model":null}`, wantCode: CodeMissingRequiredParameter, wantParam: "model"},
		{name: "chat without messages", kind: KindChatCompletions, body: `{"model":"m"}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "messages"},
		{name: "chat with null messages", kind: KindChatCompletions, body: `{"model":"m","messages":null}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "messages"},
		{name: "chat with object messages", kind: KindChatCompletions, body: `{"model":"m","messages":{}}`,
			wantCode: CodeInvalidType, wantParam: "messages"},
		{name: "chat with string messages", kind: KindChatCompletions, body: `{"model":"m","messages":"hi"}`,
			wantCode: CodeInvalidType, wantParam: "messages"},
		{name: "chat with empty messages", kind: KindChatCompletions, body: `{"model":"m","messages":[ ]}`,
			wantCode: CodeEmptyArray, wantParam: "messages"},
		{name: "completions without prompt", kind: KindCompletions, body: `{"model":"m","messages":[1]}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "prompt"},
		{name: "completions with null prompt", kind: KindCompletions, body: `{"model":"m","prompt":null}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "prompt"},
		{name: "embeddings without input", kind: KindEmbeddings, body: `{"model":"m","prompt":"x"}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "input"},
		{name: "model checked before messages", kind: KindChatCompletions, body: `{}`,
			wantCode: CodeMissingRequiredParameter, wantParam: "model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRequest([]byte(tc.body), tc.kind)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseRequest error = %v, want *Error", err)
			}
			got := struct{ Status, Code, Param, Type string }{http.StatusText(e.Status), e.Code, e.Param, e.Type}
			want := struct{ Status, Code, Param, Type string }{http.StatusText(400), tc.wantCode, tc.wantParam, TypeInvalidRequest}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s\nmessage: %s", diff, e.Message)
			}
			if e.Message == "" || strings.Contains(e.Message, secret) || (len(tc.body) > 4 && strings.Contains(e.Message, tc.body)) {
				t.Errorf("message %q is empty or echoes the body", e.Message)
			}
			if tc.wantCode == CodeInvalidJSON && isJSONObject([]byte(tc.body)) {
				t.Errorf("body is a valid JSON object but ParseRequest said invalid_json")
			}
		})
	}
}

func TestParseRequestErrorOffset(t *testing.T) {
	t.Parallel()
	_, err := ParseRequest([]byte(`{"model":"m","x":[1,2,}`), KindOther)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	const want = "We could not parse the JSON body of your request: invalid character, expected a value at byte offset 22."
	if e.Message != want {
		t.Errorf("Message = %q, want %q", e.Message, want)
	}
}

// TestParseRequestDepth checks the nesting limit matches encoding/json's.
func TestParseRequestDepth(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		// depth counts the top-level object plus the nested arrays and objects.
		inner := depth - 1
		var b strings.Builder
		b.WriteString(`{"model":"m","x":`)
		for i := range inner {
			if i%2 == 0 {
				b.WriteString(`[`)
			} else {
				b.WriteString(`{"k":`)
			}
		}
		b.WriteString(`1`)
		for i := inner - 1; i >= 0; i-- {
			if i%2 == 0 {
				b.WriteString(`]`)
			} else {
				b.WriteString(`}`)
			}
		}
		b.WriteString(`}`)
		body := []byte(b.String())
		_, err := ParseRequest(body, KindOther)
		if got, want := err == nil, json.Valid(body); got != want {
			t.Errorf("depth %d: ParseRequest ok = %v, json.Valid = %v", depth, got, want)
		}
		if want := depth <= maxDepth; (err == nil) != want {
			t.Errorf("depth %d: ParseRequest err = %v, want ok=%v", depth, err, want)
		}
	}
}

func TestKindFromPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want Kind
		str  string
	}{
		{path: "/v1/completions", want: KindCompletions, str: "completions"},
		{path: "/v1/chat/completions", want: KindChatCompletions, str: "chat_completions"},
		{path: "/v1/embeddings", want: KindEmbeddings, str: "embeddings"},
		{path: "/v1/models", want: KindOther, str: "other"},
		{path: "/v1/chat/completions/", want: KindOther, str: "other"},
		{path: "", want: KindOther, str: "other"},
	}
	for _, tc := range tests {
		if got := KindFromPath(tc.path); got != tc.want || got.String() != tc.str {
			t.Errorf("KindFromPath(%q) = %v (%s), want %v (%s)", tc.path, int(got), got, int(tc.want), tc.str)
		}
	}
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return json.Valid(b) && len(b) > 0 && b[0] == '{'
}

// decodeMap decodes a JSON object the way a model server would see it,
// keeping numbers as json.Number.
func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("encoding/json cannot decode %q: %v", b, err)
	}
	return m
}

// stdCount mirrors parseCount on a value decoded by encoding/json.
func stdCount(v any) int {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	return parseCount([]byte(n))
}

// checkAgainstStdlib verifies r agrees with encoding/json's view of body.
func checkAgainstStdlib(t testing.TB, body []byte, kind Kind, r Request) {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("ParseRequest accepted a body json.Valid rejects: %q", body)
	}
	m := decodeMap(t, body)
	if got, want := r.Model, m["model"]; got != want {
		t.Errorf("Model = %q, encoding/json says %#v", got, want)
	}
	if got, want := r.Stream, m["stream"] == true; got != want {
		t.Errorf("Stream = %v, encoding/json says %v", got, want)
	}
	so, _ := m["stream_options"].(map[string]any)
	if got, want := r.IncludeUsage, so["include_usage"] == true; got != want {
		t.Errorf("IncludeUsage = %v, encoding/json says %v", got, want)
	}
	wantMax := stdCount(m["max_completion_tokens"])
	if wantMax == 0 {
		wantMax = stdCount(m["max_tokens"])
	}
	if r.MaxTokens != wantMax {
		t.Errorf("MaxTokens = %d, encoding/json says %d", r.MaxTokens, wantMax)
	}
	key := kind.promptKey()
	if key == "" {
		if r.Prompt != nil {
			t.Errorf("Prompt = %q for KindOther, want nil", r.Prompt)
		}
		return
	}
	var p any
	d := json.NewDecoder(bytes.NewReader(r.Prompt))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		t.Fatalf("Prompt %q is not JSON: %v", r.Prompt, err)
	}
	if diff := cmp.Diff(m[key], p); diff != "" {
		t.Errorf("Prompt differs from encoding/json's %q (-std +ours):\n%s", key, diff)
	}
}

// FuzzParseRequest checks ParseRequest never panics, accepts only what
// json.Valid accepts, rejects every invalid body, and agrees with
// encoding/json on the fields it extracts.
func FuzzParseRequest(f *testing.F) {
	seeds := []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","prompt":"p","max_tokens":3,"max_completion_tokens":null}`,
		`{"model":"m","input":["a"]}`,
		`{"mod\u0065l":"a\u00e9\ud800","stream":true,"stream":false}`,
		"{\"model\":\"\xff\",\"x\":[[[{}]]],\"y\":-0.5e-3}",
		`{"model":"m","x":[1,]}`,
		`{"model":"m"} x`,
		` [ ] `,
		``,
		`{"model":"m","s":"\u12"}`,
		`{"model":"m","messages":[]}`,
		`{"model":"m","stream_options":{"include_usage":true},"stream_options":3}`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i%4))
	}
	f.Fuzz(func(t *testing.T, body []byte, k uint8) {
		kind := Kind(k % 4)
		r, err := ParseRequest(body, kind)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("error %v is not a 400 *Error", err)
			}
			if e.Code == CodeInvalidJSON && isJSONObject(body) {
				t.Fatalf("valid JSON object rejected as invalid JSON: %v", err)
			}
			if e.Code != CodeInvalidJSON && !json.Valid(body) {
				t.Fatalf("invalid JSON reported as %v", err)
			}
			return
		}
		checkAgainstStdlib(t, body, kind, r)
	})
}

func TestParseRequestModelNameLimit(t *testing.T) {
	t.Parallel()
	body := func(model string) []byte {
		return []byte(`{"model":"` + model + `","prompt":"x"}`)
	}
	atLimit := strings.Repeat("m", MaxModelNameBytes)
	if r, err := ParseRequest(body(atLimit), KindCompletions); err != nil || r.Model != atLimit {
		t.Fatalf("a %d-byte name: got model of %d bytes, err %v", MaxModelNameBytes, len(r.Model), err)
	}
	for name, model := range map[string]string{
		"one byte over":       atLimit + "m",
		"escapes over":        strings.Repeat(`\u0041`, MaxModelNameBytes+1),
		"two megabytes":       strings.Repeat("m", 2<<20),
		"invalid UTF-8 grows": strings.Repeat("\xff", MaxModelNameBytes/3+1), // each becomes U+FFFD, 3 bytes
	} {
		_, err := ParseRequest(body(model), KindCompletions)
		var oe *Error
		if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Param != "model" || oe.Code != CodeStringAboveMaxLength {
			t.Errorf("%s: err = %v, want 400 string_above_max_length on model", name, err)
		}
	}
	// Escapes that decode under the limit pass.
	if r, err := ParseRequest(body(strings.Repeat(`\u0041`, MaxModelNameBytes)), KindCompletions); err != nil || len(r.Model) != MaxModelNameBytes {
		t.Errorf("escaped name at the limit: model %d bytes, err %v", len(r.Model), err)
	}
}
