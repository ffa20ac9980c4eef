package openai

import (
	"strings"
	"testing"
)

func TestResponseModel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{name: "complete response", in: `{"id":"x","object":"chat.completion","created":1,"model":"llama","choices":[],"usage":{"prompt_tokens":1}}`, want: "llama", ok: true},
		{name: "cut after the member", in: `{"id":"x","model":"m-1","choices":[{"message":{"content":"hel`, want: "m-1", ok: true},
		{name: "stream chunk", in: ` {"id":"c","object":"chat.completion.chunk","model":"sql-lora","choices":[{"delta":{}}]}`, want: "sql-lora", ok: true},
		{name: "escapes", in: `{"model":"a\/b\u00e9"}`, want: "a/bé", ok: true},
		{name: "escaped key", in: `{"mod\u0065l":"k"}`, want: "k", ok: true},
		{name: "nested model only", in: `{"choices":[{"model":"inner"}],"id":"x"}`, ok: false},
		{name: "cut before the member", in: `{"id":"x","choices":[{"message":{"content":"hel`, ok: false},
		{name: "cut inside the value", in: `{"model":"lla`, ok: false},
		{name: "not a string", in: `{"model":7}`, ok: false},
		{name: "null", in: `{"model":null}`, ok: false},
		{name: "empty", in: `{"model":""}`, ok: false},
		{name: "too long", in: `{"model":"` + strings.Repeat("m", MaxModelNameBytes+1) + `"}`, ok: false},
		{name: "not an object", in: `["model","x"]`, ok: false},
		{name: "invalid before the member", in: `{"id":x,"model":"m"}`, ok: false},
		{name: "nothing", in: ``, ok: false},
	}
	for _, tc := range tests {
		got, ok := ResponseModel([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ResponseModel = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzResponseModel(f *testing.F) {
	for _, s := range []string{`{"model":"llama"}`, `{"id":"x","model":"a\u00e9"`, `{"choices":[],"model":1}`, `{`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := ResponseModel(b)
		if ok && (m == "" || len(m) > MaxModelNameBytes) {
			t.Fatalf("ResponseModel(%q) = %q, true: empty or over the limit", b, m)
		}
		if !ok && m != "" {
			t.Fatalf("ResponseModel(%q) = %q, false", b, m)
		}
	})
}

func TestStreamObserverCaptureModel(t *testing.T) {
	stream := vllmStream(false, 3)
	for k := 0; k <= len(stream); k += 7 {
		o := NewEventStreamObserver(true)
		o.CaptureModel()
		observeWith(o, [][]byte{stream[:k:k], stream[k:]})
		if got := o.Model(); got != "llama" {
			t.Fatalf("split at %d: Model = %q, want llama", k, got)
		}
	}
	o := NewEventStreamObserver(false)
	observeWith(o, [][]byte{stream})
	if got := o.Model(); got != "" {
		t.Errorf("without CaptureModel: Model = %q, want \"\"", got)
	}
	// Only the first chunk naming a model counts.
	o = NewStreamObserver(false)
	o.CaptureModel()
	observeWith(o, [][]byte{[]byte("data: {\"model\":\"first\"}\n\ndata: {\"model\":\"second\"}\n\n")})
	if got := o.Model(); got != "first" {
		t.Errorf("Model = %q, want first", got)
	}
}
