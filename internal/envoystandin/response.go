package envoystandin

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// startResponse sends a response (upstream's, or a router local reply) into
// the picker's response path: ResponseHeaders now, the body from a pump.
// resp supplies trailers and is nil for local replies.
func (e *exchange) startResponse(status int, hdr http.Header, body io.ReadCloser, contentLength int64, resp *http.Response, upstream bool) bool {
	if e.pickerClosed {
		if body != nil {
			_ = body.Close()
		}
		e.reset(DetailsClosedEarly, errClosedEarly)
		return false
	}
	h := make(headerList, 0, len(hdr)+2)
	h = append(h, header{":status", strconv.Itoa(status)})
	h.appendHTTPHeader(hdr, func(k string) bool { return hopByHop[k] })
	if upstream {
		ms := e.cfg.Now().Sub(e.upstreamStart).Milliseconds()
		h = append(h, header{"x-envoy-upstream-service-time", strconv.FormatInt(ms, 10)})
	}
	e.respHeaders = h
	eos := body == nil || body == http.NoBody || contentLength == 0
	if e.served != "" && upstream {
		e.respMeta.Store(servedMetadata(e.served))
	}
	e.send(&extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
			Headers: h.proto(), EndOfStream: eos,
		}},
		MetadataContext: e.respMeta.Load(),
	})
	e.awaitRespHeaders = true
	if eos {
		if body != nil {
			_ = body.Close()
		}
		return true
	}
	e.respBody = body
	e.wg.Add(1)
	go e.pumpResponse(body, contentLength, resp)
	return true
}

// pumpResponse streams the response body to the picker as it arrives, one
// message per read, end_of_stream on the last byte of a known length, else
// an empty end_of_stream message (or the trailers) at EOF, as Envoy's HTTP/1
// codec delivers it.
func (e *exchange) pumpResponse(body io.Reader, contentLength int64, resp *http.Response) {
	defer e.wg.Done()
	meta := e.respMeta.Load()
	bp := e.s.bufs.Get().(*[]byte)
	defer e.s.bufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := body.Read(buf)
		if n > 0 {
			total += int64(n)
			eos := contentLength >= 0 && total >= contentLength
			e.respLat.sent(n, e.cfg.Now())
			e.respUnanswered.Store(true)
			if eos {
				e.respEndSent.Store(true)
			}
			e.send(&extprocv3.ProcessingRequest{
				Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{
					Body: buf[:n], EndOfStream: eos,
				}},
				MetadataContext: meta,
			})
			if eos {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			if resp != nil && len(resp.Trailer) > 0 {
				tr := make(headerList, 0, len(resp.Trailer))
				tr.appendHTTPHeader(resp.Trailer, nil)
				msg := &extprocv3.ProcessingRequest{
					Request: &extprocv3.ProcessingRequest_ResponseTrailers{ResponseTrailers: &extprocv3.HttpTrailers{
						Trailers: tr.proto(),
					}},
					MetadataContext: meta,
				}
				e.respTrailers.Store(&tr)
				e.respEndSent.Store(true)
				e.send(msg)
				return
			}
			e.respEndSent.Store(true)
			e.send(&extprocv3.ProcessingRequest{
				Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{
					EndOfStream: true,
				}},
				MetadataContext: meta,
			})
			return
		}
		if err != nil {
			if e.ctx.Err() == nil {
				select {
				case e.respPumpErr <- err:
				default:
				}
			}
			return
		}
	}
}
