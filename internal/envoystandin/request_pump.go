package envoystandin

import (
	"errors"
	"fmt"
	"io"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// pumpRequest reads the client's body and streams it to the picker without
// waiting for the header response (FULL_DUPLEX_STREAMED): chunks of
// ChunkSize, end_of_stream on the last chunk of a known length; a chunked
// body ends with an empty end_of_stream chunk, or with RequestTrailers when
// the client sent trailers.
func (e *exchange) pumpRequest() {
	defer e.wg.Done()
	defer e.reqPumpRunning.Store(false)
	cl := e.r.ContentLength
	bp := e.s.bufs.Get().(*[]byte)
	defer e.s.bufs.Put(bp)
	buf := *bp
	var total int64
	for {
		want := len(buf)
		if cl >= 0 && cl-total < int64(want) {
			want = int(cl - total)
		}
		n, err := io.ReadFull(e.r.Body, buf[:want])
		total += int64(n)
		atEOF := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && (!atEOF || (cl >= 0 && total < cl)) {
			e.pumpFailed(fmt.Errorf("read client body: %w", err))
			return
		}
		last := cl >= 0 && total == cl
		if n > 0 || (last && !e.forceTrailers) {
			e.sendRequestBody(buf[:n], last && !e.forceTrailers)
		}
		if last && !e.forceTrailers {
			e.reqEndAt.Store(e.cfg.Now().UnixNano())
			return
		}
		if last || atEOF {
			e.endWithTrailersOrEmptyChunk()
			return
		}
	}
}

// endWithTrailersOrEmptyChunk ends a body whose last chunk went without
// end_of_stream: with RequestTrailers when the client sent trailers (or
// Config.EndWithTrailers asks for them, possibly empty), else with an empty
// end_of_stream chunk.
func (e *exchange) endWithTrailersOrEmptyChunk() {
	tr := make(headerList, 0, len(e.r.Trailer))
	tr.appendHTTPHeader(e.r.Trailer, nil)
	if len(tr) == 0 && !e.forceTrailers {
		e.sendRequestBody(nil, true)
	} else {
		msg := &extprocv3.ProcessingRequest{
			Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{
				Trailers: tr.proto(),
			}},
			MetadataContext: e.reqMeta,
		}
		// Published before sending (the answer may follow at once) and not
		// touched here afterwards: the run goroutine mutates it.
		e.reqTrailers.Store(&tr)
		e.send(msg)
	}
	e.reqEndAt.Store(e.cfg.Now().UnixNano())
}

// sendRequestBody sends one request body chunk.
func (e *exchange) sendRequestBody(b []byte, eos bool) {
	e.reqChunks.Add(1)
	e.send(&extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{
			Body: b, EndOfStream: eos,
		}},
		MetadataContext: e.reqMeta,
	})
}

// pumpFailed reports a client body failure (a downstream reset) unless the
// exchange is already over.
func (e *exchange) pumpFailed(err error) {
	if e.ctx.Err() != nil {
		return
	}
	select {
	case e.reqPumpErr <- err:
	default:
	}
}
