package exchange

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCutEndsStreamWithErrorEvent(t *testing.T) {
	const (
		ev      = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
		partial = "data: {\"choices\":[{\"ind"
		broken  = `data: {"error":{"message":"The model server broke off the response before it was complete.","type":"server_error","param":null,"code":"upstream_error"}}` + "\n\n"
		stalled = `data: {"error":{"message":"The model server stopped sending the response before it was complete.","type":"server_error","param":null,"code":"upstream_timeout"}}` + "\n\n"
	)
	errReset := errors.New("connection reset")
	tests := []struct {
		name     string
		body     string // client request
		stream   bool   // upstream answers with SSE
		chunks   []string
		err      error
		timedOut bool
		wantOK   bool
		want     string // everything the client gets
		wantCode string
	}{
		{name: "cut after an event", body: streamBody, stream: true, chunks: []string{ev}, err: errReset, wantOK: true, want: ev + broken, wantCode: ErrorBadGateway},
		{name: "partial event dropped", body: streamBody, stream: true, chunks: []string{ev, partial}, err: errReset, wantOK: true, want: ev + broken, wantCode: ErrorBadGateway},
		{name: "client asked for usage: partial still held", body: `{"model":"base","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`, stream: true, chunks: []string{ev, partial}, err: errReset, wantOK: true, want: ev + broken, wantCode: ErrorBadGateway},
		{name: "idle timeout", body: streamBody, stream: true, chunks: []string{ev}, err: errReset, timedOut: true, wantOK: true, want: ev + stalled, wantCode: ErrorTimeout},
		{name: "cut before any event", body: streamBody, stream: true, err: io.ErrUnexpectedEOF, wantOK: true, want: broken, wantCode: ErrorBadGateway},
		{name: "after [DONE] nothing is added", body: streamBody, stream: true, chunks: []string{ev, "data: [DONE]\n\n"}, err: errReset, wantOK: true, want: ev + "data: [DONE]\n\n"},
		{name: "not a stream: abort", body: `{"model":"base","messages":[{"role":"user","content":"x"}]}`, chunks: []string{`{"choices":`}, err: errReset, want: `{"choices":`, wantCode: ErrorBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			x, dec, _ := f.begin(t, tc.body)
			x.Attempt(dec.Endpoint)
			x.Served(dec.Endpoint)
			x.ResponseStarted(200, tc.stream)
			var got []byte
			for _, c := range tc.chunks {
				got = x.Chunk(got, []byte(c))
			}
			got, ok := x.Cut(got, tc.err, tc.timedOut)
			if ok != tc.wantOK || string(got) != tc.want {
				t.Errorf("Cut = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
			x.End(Outcome{TimedOut: tc.timedOut})
			r := f.obs.records[0]
			if r.ErrorCode != tc.wantCode {
				t.Errorf("error code %q, want %q", r.ErrorCode, tc.wantCode)
			}
			if ok && r.ResponseBytes != len(got) {
				t.Errorf("response bytes %d, want %d", r.ResponseBytes, len(got))
			}
		})
	}
}

// streamBody is a streaming chat request without include_usage.
const streamBody = `{"model":"base","stream":true,"messages":[{"role":"user","content":"x"}]}`

func TestCutAfterOversizedPartialEventStartsANewEvent(t *testing.T) {
	f := newFixture(t)
	x, dec, _ := f.begin(t, `{"model":"base","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`)
	x.Attempt(dec.Endpoint)
	x.ResponseStarted(200, true)
	big := "data: " + strings.Repeat("x", 2<<20)
	got := x.Chunk(nil, []byte(big))
	if len(got) != len(big) {
		t.Fatalf("an oversized event was held (%d of %d bytes forwarded)", len(got), len(big))
	}
	got, ok := x.Cut(got, io.ErrUnexpectedEOF, false)
	if !ok {
		t.Fatal("Cut of a stream reported no error event")
	}
	if !strings.HasPrefix(string(got[len(big):]), "\n\ndata: {\"error\":{") {
		t.Errorf("tail %q does not end the partial event before the error event", got[len(big):])
	}
}
