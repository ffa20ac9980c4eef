package proxy

import (
	"io"
	"net/http"
	"time"

	"github.com/infergate/infergate/internal/openai"
)

// usageTailBytes is how much of a non-streaming response is kept to find usage.
const usageTailBytes = 16 << 10

// modifyResponse records the upstream answer and wraps its body so the
// response is observed while it streams to the client.
func (h *Handler) modifyResponse(resp *http.Response) error {
	x := exchangeFrom(resp.Request.Context())
	x.upstream = resp.StatusCode
	x.status = resp.StatusCode
	x.headersAt = h.now()
	x.streamed = isStream(resp.Header)
	ob := &observedBody{h: h, x: x, rc: resp.Body}
	if x.streamed {
		strip := x.req.Stream && !x.req.IncludeUsage
		ob.stream = openai.NewStreamObserver(strip)
		ob.in = make([]byte, 32<<10)
		if strip {
			// Removing a chunk changes the length; let the server re-frame.
			resp.ContentLength = -1
			resp.Header.Del("Content-Length")
		}
	} else {
		ob.tail = openai.NewUsageTail(usageTailBytes)
	}
	ob.idle = time.AfterFunc(h.idle, func() {
		x.timedOut.Store(true)
		x.cancel()
	})
	resp.Body = ob
	return nil
}

// observedBody wraps an upstream response body: it watches for idle gaps,
// counts bytes, finds usage, times SSE events and, for streams, drops the
// usage chunk the client did not ask for.
type observedBody struct {
	h      *Handler
	x      *exchange
	rc     io.ReadCloser
	idle   *time.Timer
	stream *openai.StreamObserver
	tail   *openai.UsageTail
	in     []byte // read buffer for streams
	obuf   []byte // backing array for out
	out    []byte // processed stream bytes not yet returned
	done   bool
}

// Read implements io.Reader.
func (b *observedBody) Read(p []byte) (int, error) {
	if b.stream == nil {
		n, err := b.rc.Read(p)
		b.idle.Reset(b.h.idle)
		if n > 0 {
			b.x.respBytes += n
			_, _ = b.tail.Write(p[:n])
		}
		if err != nil {
			b.finish(err)
		}
		return n, err
	}
	for len(b.out) == 0 {
		if b.done {
			return 0, io.EOF
		}
		n, err := b.rc.Read(b.in)
		b.idle.Reset(b.h.idle)
		if n > 0 {
			var events int
			b.obuf, events = b.stream.Process(b.obuf[:0], b.in[:n])
			b.out = b.obuf
			if events > 0 {
				now := b.h.now()
				if b.x.firstToken.IsZero() {
					b.x.firstToken = now
				}
				b.x.lastToken = now
				b.x.events += events
			}
		}
		if err != nil {
			b.obuf = b.stream.Flush(b.out)
			b.out = b.obuf
			b.finish(err)
			if len(b.out) == 0 {
				return 0, err
			}
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	b.x.respBytes += n
	return n, nil
}

// finish records the end of the upstream body.
func (b *observedBody) finish(err error) {
	if b.done {
		return
	}
	b.done = true
	b.idle.Stop()
	b.x.finishedAt = b.h.now()
	// A stream that delivered its [DONE] is complete even if the client
	// hung up before the upstream's final chunk framing arrived.
	if err != io.EOF && (b.stream == nil || !b.stream.Done()) {
		b.x.bodyErr = err
	}
	if b.stream != nil {
		b.x.usage, b.x.usageOK = b.stream.Usage()
	} else {
		b.x.usage, b.x.usageOK = b.tail.Usage()
	}
}

// Close implements io.Closer.
func (b *observedBody) Close() error {
	b.idle.Stop()
	if !b.done {
		b.finish(errClosedEarly)
	}
	return b.rc.Close()
}
