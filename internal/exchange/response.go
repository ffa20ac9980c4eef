package exchange

import (
	"io"
	"time"

	"github.com/infergate/infergate/internal/openai"
)

// usageTailBytes is how much of a non-streaming response is kept to find usage.
const usageTailBytes = 16 << 10

// ResponseStarted records the upstream response's status and whether it is
// an SSE stream. It reports whether the body's length will change (the
// usage chunk the gateway asked for is removed), in which case the front end
// must not pass the upstream's Content-Length on.
func (x *Exchange) ResponseStarted(status int, stream bool) (reframe bool) {
	x.upstream, x.status = status, status
	x.headersAt = x.t.now()
	if stream {
		strip := x.req.Stream && !x.req.IncludeUsage
		x.stream = openai.NewEventStreamObserver(strip)
		if x.respModel != nil {
			x.stream.CaptureModel()
		}
		return strip
	}
	x.tail = openai.NewUsageTail(usageTailBytes)
	if x.respModel != nil {
		x.respModel.head = make([]byte, 0, responseModelHeadBytes)
	}
	return false
}

// Chunk observes p, the next bytes of the upstream body, and returns what to
// pass to the client: for a stream the complete events in p (and before it)
// appended to dst, times of token events recorded and the unrequested usage
// chunk removed; otherwise p itself, its tail kept to find usage.
func (x *Exchange) Chunk(dst, p []byte) []byte {
	began := x.t.now()
	if x.stream == nil {
		x.respBytes += len(p)
		_, _ = x.tail.Write(p)
		if x.respModel != nil {
			x.respModel.headChunk(p)
		}
		x.respProc += x.t.now().Sub(began)
		return p
	}
	out, events := x.stream.Process(dst, p)
	now := x.t.now()
	x.respProc += now.Sub(began)
	if events > 0 {
		if x.firstToken.IsZero() {
			x.firstToken = now
			x.gaps = x.gapObserver()
		} else if x.gaps != nil {
			x.gaps(now.Sub(x.lastToken))
		}
		x.lastToken = now
		x.events += events
	}
	x.respBytes += len(out) - len(dst)
	return out
}

// GapObserver is an optional interface of an [Observer]: StreamGaps returns
// the function that records, for the stream of request r, the time between
// consecutive body chunks carrying tokens (nil to record none). The
// exchange asks once per stream, at its first token.
type GapObserver interface {
	StreamGaps(r Running) func(time.Duration)
}

// gapObserver returns the observer's gap recorder for this stream, if any.
func (x *Exchange) gapObserver() func(time.Duration) {
	if g, ok := x.t.obs.(GapObserver); ok {
		return g.StreamGaps(x.runningKey())
	}
	return nil
}

// Flush returns, appended to dst, the stream bytes still held back (an
// incomplete last event) once the upstream body ended; nil for a
// non-streaming response.
func (x *Exchange) Flush(dst []byte) []byte {
	if x.stream == nil {
		return dst
	}
	out := x.stream.Flush(dst)
	x.respBytes += len(out) - len(dst)
	return out
}

// BodyEnd records the end of the upstream body: err is io.EOF for a clean
// end, [ErrClosedEarly] when the front end stopped passing it on, or the read
// error. Only the first call counts.
func (x *Exchange) BodyEnd(err error) {
	if x.bodyDone {
		return
	}
	x.bodyDone = true
	x.finishedAt = x.t.now()
	// A stream that delivered its [DONE] is complete even if the client
	// hung up before the upstream's final chunk framing arrived.
	if err != io.EOF && (x.stream == nil || !x.stream.Done()) {
		x.bodyErr = err
	}
	switch {
	case x.stream != nil:
		x.usage, x.usageOK = x.stream.Usage()
		if x.respModel != nil {
			x.respModel.model = x.stream.Model()
		}
	case x.tail != nil:
		x.usage, x.usageOK = x.tail.Usage()
	}
}
