package exchange

import (
	"io"
	"strings"
	"testing"
)

func TestResponseModel(t *testing.T) {
	long := strings.Repeat("x", 3*responseModelHeadBytes)
	tests := []struct {
		name    string
		req     string
		stream  bool
		capture bool
		chunks  []string
		want    string
	}{
		{name: "body in one chunk", req: chat, capture: true,
			chunks: []string{`{"id":"a","object":"chat.completion","model":"served-m","choices":[],"usage":{"prompt_tokens":1}}`}, want: "served-m"},
		{name: "body split inside the model", req: chat, capture: true,
			chunks: []string{`{"id":"a","mod`, `el":"serv`, `ed-m","choices":[{"message":{"content":"` + long + `"}}]}`}, want: "served-m"},
		{name: "model past the head", req: chat, capture: true,
			chunks: []string{`{"id":"` + long + `","model":"late"}`}, want: ""},
		{name: "not asked", req: chat,
			chunks: []string{`{"model":"served-m"}`}, want: ""},
		{name: "stream", req: streamChat, stream: true, capture: true,
			chunks: []string{"data: {\"model\":\"sse-m\",\"choi", "ces\":[{\"delta\":{\"content\":\"t\"}}]}\n\n", "data: [DONE]\n\n"}, want: "sse-m"},
		{name: "stream not asked", req: streamChat, stream: true,
			chunks: []string{"data: {\"model\":\"sse-m\",\"choices\":[]}\n\ndata: [DONE]\n\n"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			x, dec, _ := f.begin(t, tc.req)
			if tc.capture {
				x.CaptureResponseModel()
			}
			x.Attempt(dec.Endpoint)
			x.Served(dec.Endpoint)
			x.ResponseStarted(200, tc.stream)
			var out []byte
			for _, c := range tc.chunks {
				out = x.Chunk(out[:0], []byte(c))
			}
			x.Flush(nil)
			x.BodyEnd(io.EOF)
			x.End(Outcome{})
			if got := x.ResponseModel(); got != tc.want {
				t.Errorf("ResponseModel = %q, want %q", got, tc.want)
			}
		})
	}
}
