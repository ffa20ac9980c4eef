package exchange

import "github.com/infergate/infergate/internal/openai"

// Cut records that the upstream body broke off before its end (err is the
// read error; timedOut tells that the idle timeout fired) and returns,
// appended to dst, the bytes that end the response for the client. For an
// SSE stream they are an error event in the OpenAI shape,
//
//	data: {"error":{"message":…,"type":"server_error","param":null,"code":"upstream_error"}}
//
// followed by the empty line that dispatches it (code upstream_timeout
// after a timeout), which the OpenAI SDKs raise as an error; the incomplete
// event held back is dropped, and when an oversized event was already
// partly forwarded an empty line ends it first. ok is true then and the
// front end sends the bytes and ends the response normally (also when the
// stream had already carried its [DONE], with nothing to add). For any other
// response ok is false: there is no in-band way to report the cut, and the
// front end must abort the response so the client sees it truncated.
//
// Call Cut instead of [Exchange.Flush] and [Exchange.BodyEnd] when the body
// broke off while the client was still there; it is the front ends' one
// source of these bytes.
func (x *Exchange) Cut(dst []byte, err error, timedOut bool) (out []byte, ok bool) {
	if x.stream == nil {
		x.BodyEnd(err)
		return dst, false
	}
	if x.stream.Done() {
		// [DONE] went out: the answer is complete, whatever follows.
		x.BodyEnd(err)
		return dst, true
	}
	boundary := x.stream.AtEventBoundary()
	x.stream.Discard()
	x.BodyEnd(err)
	e := openai.ErrUpstreamCut()
	if timedOut {
		e = openai.ErrUpstreamStalled()
	}
	start := len(dst)
	if !boundary {
		dst = append(dst, "\n\n"...)
	}
	dst = append(dst, "data: "...)
	dst = e.AppendJSON(dst)
	dst = append(dst, "\n\n"...)
	x.respBytes += len(dst) - start
	return dst, true
}
