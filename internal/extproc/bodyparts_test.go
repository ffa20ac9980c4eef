package extproc

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/openai"
)

// sentBack is what the picker answered a request with: the decision's
// content-length and the request-body messages after it.
type sentBack struct {
	length   string
	pieces   [][]byte
	eos      []bool
	trailers bool // a request-trailers answer followed the body
}

// sendBackOf runs msgs through p in memory and returns the answer.
func sendBackOf(t *testing.T, p *picker, msgs []*extprocv3.ProcessingRequest) sentBack {
	t.Helper()
	ms := &memStream{ctx: context.Background(), keep: true}
	ms.reset(msgs)
	if err := p.srv.Process(ms); err != nil {
		t.Fatal(err)
	}
	var sb sentBack
	if len(ms.all) == 0 || ms.all[0].GetRequestHeaders() == nil {
		t.Fatalf("answers %v, want the decision first", ms.all)
	}
	for _, h := range ms.all[0].GetRequestHeaders().GetResponse().GetHeaderMutation().GetSetHeaders() {
		if h.GetHeader().GetKey() == headerContentLength {
			sb.length = string(h.GetHeader().GetRawValue())
		}
	}
	for _, r := range ms.all[1:] {
		if r.GetRequestTrailers() != nil {
			sb.trailers = true
			continue
		}
		sr := r.GetRequestBody().GetResponse().GetBodyMutation().GetStreamedResponse()
		if sr == nil {
			t.Fatalf("answer %v, want a request-body piece", r)
		}
		sb.pieces = append(sb.pieces, sr.GetBody())
		sb.eos = append(sb.eos, sr.GetEndOfStream())
	}
	return sb
}

// requestMsgs is a chat completion's request messages: headers (with
// extra header pairs), body in chunks of chunk bytes, then trailers when
// trailers is true.
func requestMsgs(body []byte, chunk int, trailers bool, extra ...string) []*extprocv3.ProcessingRequest {
	kv := append([]string{":path", "/v1/chat/completions", ":method", "POST", "content-type", "application/json",
		"content-length", strconv.Itoa(len(body))}, extra...)
	msgs := []*extprocv3.ProcessingRequest{{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: envoyHeaders(kv...)}}}}
	for i := 0; i < len(body); i += chunk {
		end := min(i+chunk, len(body))
		msgs = append(msgs, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: bytes.Clone(body[i:end]), EndOfStream: end == len(body) && !trailers}}})
	}
	if trailers {
		msgs = append(msgs, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{
			RequestTrailers: &extprocv3.HttpTrailers{}}})
	}
	return msgs
}

// checkSentBack checks sb carries want: the decision's content-length,
// the pieces reassembled, every piece but the last exactly bodyChunkBytes
// long (the boundaries one contiguous copy gave), and the end of stream on
// the last piece only (on none when trailers follow, then answered).
func checkSentBack(t *testing.T, sb sentBack, want []byte, trailers bool) {
	t.Helper()
	if sb.length != strconv.Itoa(len(want)) {
		t.Errorf("decision content-length %q, want %d", sb.length, len(want))
	}
	if got := bytes.Join(sb.pieces, nil); !bytes.Equal(got, want) {
		t.Fatalf("body sent back (%d bytes) differs from the rewritten request (%d bytes)", len(got), len(want))
	}
	for i, p := range sb.pieces {
		last := i == len(sb.pieces)-1
		if (!last && len(p) != bodyChunkBytes) || len(p) > bodyChunkBytes {
			t.Errorf("piece %d of %d is %d bytes, want %d (the last at most that)", i, len(sb.pieces), len(p), bodyChunkBytes)
		}
		if sb.eos[i] != (last && !trailers) {
			t.Errorf("piece %d of %d: end_of_stream %v", i, len(sb.pieces), sb.eos[i])
		}
	}
	if sb.trailers != trailers {
		t.Errorf("trailers answered %v, want %v", sb.trailers, trailers)
	}
}

// TestRequestBodySentBackEdited: a 220 KB request whose body the picker
// edits (the model renamed by the rewrite header, include_usage forced on
// a stream, or both) goes back to Envoy as exactly the bytes
// openai.Request.Rewrite gives, in bodyChunkBytes pieces, whether the body
// came in one message or in Envoy's chunks, with or without trailers.
func TestRequestBodySentBackEdited(t *testing.T) {
	const target = "rewritten/target-model"
	p := newPicker(t, Options{Metrics: &recorder{drop: true}},
		poolDef{name: "test", addrs: []string{"10.0.0.1:8000", "10.0.0.2:8000"}, models: []string{simModel, target}})
	for _, tc := range []struct {
		name     string
		stream   bool
		rewrite  bool
		chunk    int
		trailers bool
	}{
		{name: "usage forced, one message", stream: true, chunk: 1 << 20},
		{name: "usage forced, chunks", stream: true, chunk: envoyChunk},
		{name: "model renamed, chunks", rewrite: true, chunk: envoyChunk},
		{name: "model renamed and usage forced, chunks", stream: true, rewrite: true, chunk: envoyChunk},
		{name: "model renamed and usage forced, trailers", stream: true, rewrite: true, chunk: envoyChunk, trailers: true},
		{name: "unchanged, chunks", chunk: envoyChunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := chatBody(simModel, 220_000, tc.stream)
			model := simModel
			var extra []string
			if tc.rewrite {
				model = target
				extra = []string{exchange.HeaderModelRewrite, target}
			}
			want := rewritten(t, body, model)
			if changed := tc.stream || tc.rewrite; changed == bytes.Equal(want, body) {
				t.Fatalf("test setup: Rewrite changed the body: %v, want %v", !changed, changed)
			}
			checkSentBack(t, sendBackOf(t, p, requestMsgs(body, tc.chunk, tc.trailers, extra...)), want, tc.trailers)
		})
	}
}

// TestRequestBodyEditsAtPieceBoundaries: the spliced-in model name and
// stream options land before, on and after a piece boundary, at the
// start and the end of the body; the bytes and boundaries sent back stay
// those of the contiguous rewrite.
func TestRequestBodyEditsAtPieceBoundaries(t *testing.T) {
	const target = "t"
	p := newPicker(t, Options{Metrics: &recorder{drop: true}},
		poolDef{name: "test", addrs: []string{"10.0.0.1:8000"}, models: []string{simModel, target}})
	for _, pad := range []int{0, 1, 2, bodyChunkBytes - 40, bodyChunkBytes - 12, bodyChunkBytes - 11, bodyChunkBytes - 10, bodyChunkBytes, 2*bodyChunkBytes - 11} {
		for _, size := range []int{bodyChunkBytes - 60, bodyChunkBytes, 2 * bodyChunkBytes, 3*bodyChunkBytes + 1} {
			t.Run(fmt.Sprintf("pad %d size %d", pad, size), func(t *testing.T) {
				// The model after a padding member of pad bytes; the body
				// trimmed so that, rewritten, it is about size bytes.
				head := fmt.Sprintf(`{"pad":%q,"model":%q,"messages":[{"role":"user","content":"`, strings.Repeat("p", pad), simModel)
				tail := `"}],"stream":true}`
				n := max(size-len(head)-len(tail), 1)
				body := []byte(head + strings.Repeat("w", n) + tail)
				want := rewritten(t, body, target)
				checkSentBack(t, sendBackOf(t, p, requestMsgs(body, envoyChunk, false, exchange.HeaderModelRewrite, target)), want, false)
			})
		}
	}
}

// rewritten is body as the picker must send it on: the model renamed to
// model and include_usage forced on a stream.
func rewritten(t *testing.T, body []byte, model string) []byte {
	t.Helper()
	r, err := openai.ParseRequest(body, openai.KindChatCompletions)
	if err != nil {
		t.Fatal(err)
	}
	return r.Rewrite(body, model, r.Stream)
}

// TestPooledBodyBufferReuse: requests gathered one after the other in the
// same size class (a gathering buffer goes back to the pool after each)
// send back exactly their own bytes, the shorter after the longer included:
// nothing of an earlier request's body shows in a later one's.
func TestPooledBodyBufferReuse(t *testing.T) {
	p := newPicker(t, Options{Metrics: &recorder{drop: true}},
		poolDef{name: "test", addrs: []string{"10.0.0.1:8000"}, models: []string{simModel}})
	for i, size := range []int{220_000, 150_000, 200_000, 140_000} {
		body := chatBody(simModel, size, i%2 == 0)
		want := rewritten(t, body, simModel)
		checkSentBack(t, sendBackOf(t, p, requestMsgs(body, envoyChunk, false)), want, false)
	}
}
