package openai

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// observed is everything a StreamObserver reports for one stream.
type observed struct {
	Out      string
	Count    int
	Usage    Usage
	HasUsage bool
	Done     bool
}

func observe(strip bool, chunks [][]byte) observed {
	return observeWith(NewStreamObserver(strip), chunks)
}

func observeWith(o *StreamObserver, chunks [][]byte) observed {
	var out []byte
	total := 0
	for _, c := range chunks {
		var n int
		out, n = o.Process(out, c)
		total += n
	}
	out = o.Flush(out)
	u, ok := o.Usage()
	return observed{Out: string(out), Count: total, Usage: u, HasUsage: ok, Done: o.Done()}
}

func TestStreamObserverEverySplit(t *testing.T) {
	t.Parallel()
	const tokens = 5
	for _, crlf := range []bool{false, true} {
		stream := vllmStream(crlf, tokens)
		usage := usageEvent
		if crlf {
			usage = strings.ReplaceAll(usage, "\n", "\r\n")
		}
		for _, strip := range []bool{false, true} {
			want := observed{Out: string(stream), Count: tokens + 2, Usage: vllmStreamUsage, HasUsage: true, Done: true}
			if strip {
				want.Out = strings.Replace(want.Out, usage, "", 1)
			}
			if want.Out == string(stream) && strip {
				t.Fatal("fixture: usage event not found in stream")
			}
			name := map[bool]string{false: "LF", true: "CRLF"}[crlf] + map[bool]string{false: "", true: "/strip"}[strip]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for k := 0; k <= len(stream); k++ {
					got := observe(strip, [][]byte{stream[:k:k], stream[k:]})
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("split at %d (-want +got):\n%s", k, diff)
					}
				}
				if diff := cmp.Diff(want, observe(strip, splitEvery(stream, 1))); diff != "" {
					t.Fatalf("byte by byte (-want +got):\n%s", diff)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				for range 200 {
					var chunks [][]byte
					for rest := stream; len(rest) > 0; {
						n := min(len(rest), 1+rng.IntN(300))
						chunks = append(chunks, rest[:n:n])
						rest = rest[n:]
					}
					if diff := cmp.Diff(want, observe(strip, chunks)); diff != "" {
						t.Fatalf("random chunks %d (-want +got):\n%s", len(chunks), diff)
					}
				}
			})
		}
	}
}

func TestStreamObserverEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		strip bool
		in    string
		want  observed // Out "" means identical to in
	}{
		{
			name:  "choices null usage chunk is stripped",
			strip: true,
			in:    `data: {"choices":null,"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\ndata: [DONE]\n\n",
			want:  observed{Out: "data: [DONE]\n\n", Usage: Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}, HasUsage: true, Done: true},
		},
		{
			name: "usage-only chunk kept without strip and not counted",
			in:   `data: {"choices":[],"usage":{"prompt_tokens":1}}` + "\n\n",
			want: observed{Usage: Usage{PromptTokens: 1}, HasUsage: true},
		},
		{
			name:  "chunk with choices and usage is content",
			strip: true,
			in:    `data: {"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}` + "\n\n",
			want:  observed{Count: 1, Usage: Usage{PromptTokens: 3, CompletionTokens: 1}, HasUsage: true},
		},
		{
			name:  "last usage wins",
			strip: true,
			in: `data: {"choices":[{}],"usage":{"completion_tokens":1}}` + "\n\n" +
				`data: {"choices":[{}],"usage":{"completion_tokens":2}}` + "\n\n" +
				`data: {"choices":[{}],"usage":null}` + "\n\n",
			want: observed{Count: 3, Usage: Usage{CompletionTokens: 2}, HasUsage: true},
		},
		{
			name:  "multi-line data field",
			strip: true,
			in:    "data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":5,\r\ndata:\"prompt_token_details\":{\"cached_tokens\":2}}}\n\ndata: [DONE]\n\n",
			want:  observed{Out: "data: [DONE]\n\n", Usage: Usage{PromptTokens: 5, CachedTokens: 2}, HasUsage: true, Done: true},
		},
		{
			name:  "comments, other fields and stray blank lines",
			strip: true,
			in:    ": ping\n\n\n\nevent: message\nid: 3\nretry: 10\ndata: {\"choices\":[{}]}\n\n",
			want:  observed{Count: 1},
		},
		{
			name: "DONE without space",
			in:   "data:[DONE]\n\n",
			want: observed{Done: true},
		},
		{
			name: "empty data is not dispatched",
			in:   "data\n\ndata:\n\n",
			want: observed{},
		},
		{
			name:  "invalid JSON is forwarded and counted",
			strip: true,
			in:    "data: {oops\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1},}\n\n",
			want:  observed{Count: 2},
		},
		{
			name:  "incomplete usage-only event at end is dropped on flush",
			strip: true,
			in:    "data: {\"choices\":[{}]}\n\ndata: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n",
			want:  observed{Out: "data: {\"choices\":[{}]}\n\n", Count: 1, Usage: Usage{TotalTokens: 9}, HasUsage: true},
		},
		{
			name:  "incomplete content event at end is forwarded on flush",
			strip: true,
			in:    "data: {\"choices\":[{}]}\n\ndata: {\"choices\":[{\"x\"",
			want:  observed{Count: 1},
		},
		{
			name: "lone CR does not end a line",
			in:   "data: {\"choices\":[{}]}\r\rdata: x\n\n",
			want: observed{Count: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.want
			if want.Out == "" {
				want.Out = tc.in
			}
			in := []byte(tc.in)
			if diff := cmp.Diff(want, observe(tc.strip, [][]byte{in})); diff != "" {
				t.Errorf("one read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, observe(tc.strip, splitEvery(in, 1))); diff != "" {
				t.Errorf("byte by byte (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamObserverHoldsOnlyIncompleteEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		strip     bool
		wantFirst string
	}{
		{strip: true, wantFirst: "data: {\"choices\":[{}]}\n\n"},
		{strip: false, wantFirst: "data: {\"choices\":[{}]}\n\ndata: {\"cho"},
	}
	for _, tc := range tests {
		o := NewStreamObserver(tc.strip)
		out, n := o.Process(nil, []byte("data: {\"choices\":[{}]}\n\ndata: {\"cho"))
		if string(out) != tc.wantFirst || n != 1 {
			t.Errorf("strip=%v: first Process = %q, %d; want %q, 1", tc.strip, out, n, tc.wantFirst)
		}
		out, n = o.Process(nil, []byte("ices\":[{}]}\n\n"))
		want := "ices\":[{}]}\n\n"
		if tc.strip {
			want = "data: {\"choices\":[{}]}\n\n"
		}
		if string(out) != want || n != 1 {
			t.Errorf("strip=%v: second Process = %q, %d; want %q, 1", tc.strip, out, n, want)
		}
		if out := o.Flush(nil); len(out) != 0 {
			t.Errorf("strip=%v: Flush = %q, want nothing", tc.strip, out)
		}
	}
}

func TestEventStreamObserverForwardsCompleteEventsOnly(t *testing.T) {
	t.Parallel()
	o := NewEventStreamObserver(false)
	if !o.AtEventBoundary() {
		t.Error("a new observer is not at an event boundary")
	}
	out, n := o.Process(nil, []byte("data: {\"choices\":[{}]}\n\ndata: {\"cho"))
	if string(out) != "data: {\"choices\":[{}]}\n\n" || n != 1 || !o.AtEventBoundary() {
		t.Errorf("first Process = %q, %d, boundary %v; want the complete event only, 1, true", out, n, o.AtEventBoundary())
	}
	o.Discard()
	if out := o.Flush(nil); len(out) != 0 {
		t.Errorf("Flush after Discard = %q, want nothing", out)
	}
	passthrough := NewStreamObserver(false)
	passthrough.Process(nil, []byte("data: {\"cho"))
	if passthrough.AtEventBoundary() {
		t.Error("a pass-through observer that forwarded half an event claims an event boundary")
	}
}

func TestStreamObserverOversizeEvent(t *testing.T) {
	t.Parallel()
	big := `data: {"choices":[{"delta":{"content":"` + strings.Repeat("x", MaxEventSize) + `"}}]}` + "\n\n"
	stream := []byte(big + usageEvent + "data: [DONE]\n\n")
	for _, strip := range []bool{false, true} {
		o := NewStreamObserver(strip)
		var out []byte
		total := 0
		for _, c := range splitEvery(stream, 64<<10) {
			var n int
			out, n = o.Process(out, c)
			total += n
			if len(o.pending) > MaxEventSize {
				t.Fatalf("strip=%v: holding %d bytes, bound is %d", strip, len(o.pending), MaxEventSize)
			}
		}
		out = o.Flush(out)
		want := string(stream)
		if strip {
			want = big + "data: [DONE]\n\n"
		}
		if string(out) != want {
			t.Errorf("strip=%v: output differs (len %d, want %d)", strip, len(out), len(want))
		}
		if u, ok := o.Usage(); total != 1 || !ok || u != vllmStreamUsage || !o.Done() {
			t.Errorf("strip=%v: count %d usage %+v %v done %v; want 1, %+v, true, true", strip, total, u, ok, o.Done(), vllmStreamUsage)
		}
	}
}

// FuzzStreamObserver checks that forwarding is byte-identical without
// stripping, and that nothing the observer reports depends on where reads
// split the stream.
func FuzzStreamObserver(f *testing.F) {
	f.Add(vllmStream(false, 2), []byte{3, 200, 17})
	f.Add(vllmStream(true, 1), []byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte("data: {\"choices\":null,\"usage\":{}}\r\n\r\ndata: [DONE]\r\n\r\n"), []byte{40})
	f.Add([]byte("data: a\ndata: b\n\n: c\n\n\n\ndata"), []byte{1})
	f.Add([]byte("\r\n\r\r\n\n"), []byte{0})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		var chunks [][]byte
		rest := stream
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, 1+int(cuts[i%len(cuts)]))
			}
			chunks = append(chunks, rest[:n:n])
			rest = rest[n:]
		}
		for _, strip := range []bool{false, true} {
			whole := observe(strip, [][]byte{stream})
			split := observe(strip, chunks)
			if !strip && split.Out != string(stream) {
				t.Fatalf("passthrough changed the bytes:\n got %q\nwant %q", split.Out, stream)
			}
			if held := observeWith(NewEventStreamObserver(strip), chunks); held != split {
				t.Fatalf("strip=%v: holding events back changed the result:\n got %+v\nwant %+v", strip, held, split)
			}
			if len(stream) <= MaxEventSize {
				if diff := cmp.Diff(whole, split); diff != "" {
					t.Fatalf("strip=%v: result depends on chunking (-whole +split):\n%s", strip, diff)
				}
			}
			if len(whole.Out) > len(stream) {
				t.Fatalf("stripping grew the stream")
			}
		}
	})
}
