package openai

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRewrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		model      string
		forceUsage bool
		want       string // "" means body returned unchanged (same slice)
	}{
		{
			name:  "same model, no usage forcing",
			body:  `{"model":"m","stream":true}`,
			model: "m",
		},
		{
			name:  "replace model",
			body:  `{"model" : "alias", "prompt":"x"}`,
			model: "llama-3-8b",
			want:  `{"model" : "llama-3-8b", "prompt":"x"}`,
		},
		{
			name:  "replace escaped model",
			body:  `{"prompt":"x","model":"\u0061lias"}`,
			model: "b",
			want:  `{"prompt":"x","model":"b"}`,
		},
		{
			name:  "new model is escaped",
			body:  `{"model":"m"}`,
			model: "a\"b\\c\n\x01\u2028é\xff",
			want:  `{"model":"a\"b\\c\n\u0001\u2028é\ufffd"}`,
		},
		{
			name:       "no stream: usage not forced",
			body:       `{"model":"m","stream":false}`,
			model:      "m",
			forceUsage: true,
		},
		{
			name:       "client asked for usage already",
			body:       `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
			model:      "m",
			forceUsage: true,
		},
		{
			name:       "add stream_options at the end",
			body:       `{"model":"m","stream":true}`,
			model:      "m",
			forceUsage: true,
			want:       `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name:       "add stream_options before trailing whitespace",
			body:       "{\"model\":\"m\",\"stream\":true\n}\n",
			model:      "m",
			forceUsage: true,
			want:       "{\"model\":\"m\",\"stream\":true\n,\"stream_options\":{\"include_usage\":true}}\n",
		},
		{
			name:       "empty stream_options object",
			body:       `{"model":"m","stream":true,"stream_options":{ }}`,
			model:      "m",
			forceUsage: true,
			want:       `{"model":"m","stream":true,"stream_options":{ "include_usage":true}}`,
		},
		{
			name:       "stream_options keeps other members",
			body:       `{"model":"m","stream_options":{"continuous_usage_stats":true},"stream":true}`,
			model:      "m",
			forceUsage: true,
			want:       `{"model":"m","stream_options":{"continuous_usage_stats":true,"include_usage":true},"stream":true}`,
		},
		{
			name:       "include_usage false is replaced",
			body:       `{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1}}`,
			model:      "m",
			forceUsage: true,
			want:       `{"model":"m","stream":true,"stream_options":{"include_usage":true,"x":1}}`,
		},
		{
			name:       "null stream_options is replaced",
			body:       `{"model":"m","stream":true,"stream_options":null}`,
			model:      "m",
			forceUsage: true,
			want:       `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name:       "only the effective duplicate stream_options is edited",
			body:       `{"stream_options":{"include_usage":true},"model":"m","stream":true,"stream_options":{"include_usage":null}}`,
			model:      "m",
			forceUsage: true,
			want:       `{"stream_options":{"include_usage":true},"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name:       "model and usage edits together, usage before model",
			body:       `{"stream":true,"stream_options":{},"messages":[{"role":"user","content":"model"}],"model":"alias"}`,
			model:      "target",
			forceUsage: true,
			want:       `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"model"}],"model":"target"}`,
		},
		{
			name:       "model and usage edits together, model first",
			body:       `{"model":"alias","stream":true}`,
			model:      "target",
			forceUsage: true,
			want:       `{"model":"target","stream":true,"stream_options":{"include_usage":true}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			r, err := ParseRequest(body, KindOther)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			got := r.Rewrite(body, tc.model, tc.forceUsage)
			checkEdit(t, &r, body, tc.model, tc.forceUsage, got)
			if tc.want == "" {
				if &got[0] != &body[0] || len(got) != len(body) {
					t.Fatalf("Rewrite = %s, want the body itself", got)
				}
				return
			}
			if string(got) != tc.want {
				t.Errorf("Rewrite =\n%s\nwant\n%s", got, tc.want)
			}
			if cap(got) != len(got) {
				t.Errorf("cap = %d, len = %d: size precomputed wrongly", cap(got), len(got))
			}
			checkRewrite(t, body, got, tc.model, tc.forceUsage && r.Stream)
		})
	}
}

func TestRewriteRejectsForeignBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"m","stream":true}`)
	r, err := ParseRequest(body, KindOther)
	if err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"x":1}`)
	if got := r.Rewrite(other, "z", true); string(got) != `{"x":1}` {
		t.Errorf("Rewrite on another body = %s, want it unchanged", got)
	}
	var zero Request
	if got := zero.Rewrite(body, "z", true); string(got) != string(body) {
		t.Errorf("zero Request Rewrite = %s, want body unchanged", got)
	}
}

// checkEdit verifies r.Edit's parts are want (Rewrite's result) once
// concatenated, with no empty part, and leave body as it was; an unchanged
// body is one part, body itself.
func checkEdit(t testing.TB, r *Request, body []byte, model string, force bool, want []byte) {
	t.Helper()
	in := string(body)
	e := r.Edit(body, model, force)
	if string(body) != in {
		t.Fatal("Edit modified its input")
	}
	var got []byte
	for _, p := range e.Parts() {
		if len(p) == 0 || cap(p) != len(p) {
			t.Fatalf("Edit gave a part of length %d, capacity %d: want non-empty, capacity = length", len(p), cap(p))
		}
		got = append(got, p...)
	}
	if string(got) != string(want) || e.Len() != len(want) {
		t.Fatalf("Edit parts =\n%s (Len %d)\nwant Rewrite's\n%s", got, e.Len(), want)
	}
	if len(want) > 0 && &want[0] == &body[0] && (len(e.Parts()) != 1 || &e.Parts()[0][0] != &body[0]) {
		t.Fatalf("Edit of an unchanged body gave %d parts, want body itself", len(e.Parts()))
	}
}

// checkRewrite verifies out decodes to the same object as in, except for
// model and (when usage was forced) stream_options.include_usage.
func checkRewrite(t testing.TB, in, out []byte, model string, forced bool) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("Rewrite produced invalid JSON: %q", out)
	}
	want := decodeMap(t, in)
	got := decodeMap(t, out)
	var wantModel string
	if err := json.Unmarshal(appendQuoted(nil, model), &wantModel); err != nil {
		t.Fatal(err)
	}
	want["model"] = wantModel
	if forced {
		so, ok := want["stream_options"].(map[string]any)
		if !ok {
			so = map[string]any{}
			want["stream_options"] = so
		}
		so["include_usage"] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rewritten body differs (-want +got):\n%s", diff)
	}
}

func FuzzRewrite(f *testing.F) {
	f.Add([]byte(`{"model":"m","stream":true}`), "x", true)
	f.Add([]byte(`{"model":"m","stream":true,"stream_options":{"a":[1]}}`), "m", true)
	f.Add([]byte(`{"stream_options":null,"stream":true,"model":"m"}`), "é\"\\\x00", true)
	f.Add([]byte(`{"model":"m","stream":true,"stream_options":{"include_usage":0}} `), "\xff\xfe", false)
	f.Fuzz(func(t *testing.T, body []byte, model string, force bool) {
		r, err := ParseRequest(body, KindOther)
		if err != nil {
			return
		}
		in := append([]byte(nil), body...)
		out := r.Rewrite(body, model, force)
		if string(body) != string(in) {
			t.Fatal("Rewrite modified its input")
		}
		checkEdit(t, &r, body, model, force, out)
		if len(appendQuoted(nil, model)) != quotedLen(model) {
			t.Fatalf("quotedLen(%q) = %d, appendQuoted gives %d bytes", model, quotedLen(model), len(appendQuoted(nil, model)))
		}
		if model == r.Model && !(force && r.Stream && !r.IncludeUsage) {
			if &out[0] != &body[0] {
				t.Fatal("Rewrite copied an unchanged body")
			}
			return
		}
		checkRewrite(t, body, out, model, force && r.Stream)
		var decoded string
		if err := json.Unmarshal(appendQuoted(nil, model), &decoded); err != nil {
			t.Fatal(err)
		}
		if model == "" || len(decoded) > MaxModelNameBytes {
			return // a valid rewrite that ParseRequest rejects, as it should
		}
		r2, err := ParseRequest(out, KindOther)
		if err != nil {
			t.Fatalf("rewritten body does not parse: %v", err)
		}
		if r2.Stream != r.Stream || (force && r.Stream && !r2.IncludeUsage) {
			t.Errorf("after Rewrite Stream=%v IncludeUsage=%v", r2.Stream, r2.IncludeUsage)
		}
	})
}
