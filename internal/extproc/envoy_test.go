package extproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

// This file is a small Envoy: it replays the message sequences Envoy's
// ext_proc filter sends in FULL_DUPLEX_STREAMED body mode (trailers SEND),
// enforces a message timeout on every awaited answer as Envoy's
// message_timeout does, and forwards a decided request the way an
// ORIGINAL_DST cluster does (x-gateway-destination-endpoint parsed as
// ip:port, nothing else accepted).

// testTimeout is the message timeout the tests' Envoy enforces: Envoy's
// default is 200 ms, the tests allow more because they share a loaded
// machine with the race detector on (TestMessageTimeoutEnforced shows the
// timeout bites).
const testTimeout = 3 * time.Second

// envoyChunk is Envoy's default body chunk: its buffers are 16 KiB slices.
const envoyChunk = 16 << 10

// errMessageTimeout is what the fake Envoy reports when the picker did not
// answer within the message timeout (Envoy then fails the request).
var errMessageTimeout = errors.New("ext_proc message timeout")

// envoyStream is one ext_proc stream as Envoy drives it.
type envoyStream struct {
	t       *testing.T
	ps      extprocv3.ExternalProcessor_ProcessClient
	cancel  context.CancelFunc
	in      chan *extprocv3.ProcessingResponse
	recvErr chan error // the error ending the server's side (io.EOF: closed)
	timeout time.Duration
}

// dialPicker connects a plaintext gRPC client to addr.
func dialPicker(t *testing.T, addr string, opts ...grpc.DialOption) extprocv3.ExternalProcessorClient {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return extprocv3.NewExternalProcessorClient(cc)
}

// openStream opens a stream with Envoy's default 200 ms message timeout
// (timeout > 0 overrides it).
func openStream(t *testing.T, c extprocv3.ExternalProcessorClient, timeout time.Duration) *envoyStream {
	t.Helper()
	if timeout <= 0 {
		timeout = 200 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps, err := c.Process(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &envoyStream{t: t, ps: ps, cancel: cancel, in: make(chan *extprocv3.ProcessingResponse, 64), recvErr: make(chan error, 1), timeout: timeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := ps.Recv()
			if err != nil {
				s.recvErr <- err
				close(s.in)
				return
			}
			s.in <- r
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s
}

// send sends one message; an error means the picker closed the stream
// (after an immediate response), which Envoy tolerates.
func (s *envoyStream) send(r *extprocv3.ProcessingRequest) error { return s.ps.Send(r) }

// next returns the picker's next message within the message timeout;
// io.EOF when the picker ended the stream.
func (s *envoyStream) next() (*extprocv3.ProcessingResponse, error) {
	select {
	case r, ok := <-s.in:
		if !ok {
			err := <-s.recvErr
			s.recvErr <- err
			return nil, err
		}
		return r, nil
	case <-time.After(s.timeout):
		return nil, errMessageTimeout
	}
}

// httpReq is a request as Envoy presents it to the picker.
type httpReq struct {
	method, path string
	headers      [][2]string
	body         []byte
	chunk        int              // body chunk size; 0 means 16 KiB
	trailers     bool             // the request ends with trailers
	metadata     *corev3.Metadata // request metadata (subset hints)
}

// decided is the picker's answer to a request: an immediate response, or
// the header mutation, metadata and body it sent back.
type decided struct {
	immediate  *extprocv3.ImmediateResponse
	set        map[string]string
	remove     []string
	clearRoute bool
	metadata   *structpb.Struct
	body       []byte
	bodyMsgs   int // body messages received
	maxMsg     int // largest body message
	trailers   bool
}

// headerMap builds an Envoy header map (raw_value, lower-case keys).
func headerMap(pairs [][2]string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{}
	for _, p := range pairs {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: p[0], RawValue: []byte(p[1])})
	}
	return m
}

// request replays a request: headers, body chunks (end_of_stream on the
// last unless trailers end it), trailers; then reads the answer.
func (s *envoyStream) request(r httpReq) (decided, error) {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	hdrs := append([][2]string{{":method", method}, {":path", r.path}, {":scheme", "http"}, {":authority", "gateway"}}, r.headers...)
	if len(r.body) > 0 {
		hdrs = append(hdrs, [2]string{"content-length", strconv.Itoa(len(r.body))})
	}
	noBody := len(r.body) == 0 && !r.trailers
	err := s.send(&extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers: headerMap(hdrs), EndOfStream: noBody,
		}},
		MetadataContext: r.metadata,
	})
	chunk := r.chunk
	if chunk <= 0 {
		chunk = envoyChunk
	}
	for i := 0; err == nil && i < len(r.body); i += chunk {
		end := min(i+chunk, len(r.body))
		err = s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: r.body[i:end], EndOfStream: end == len(r.body) && !r.trailers},
		}})
	}
	if err == nil && r.trailers {
		err = s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{
			RequestTrailers: &extprocv3.HttpTrailers{Trailers: headerMap([][2]string{{"x-trailer", "1"}})},
		}})
	}
	_ = err // a closed stream still delivers the immediate response
	var d decided
	for {
		m, err := s.next()
		if err != nil {
			return d, err
		}
		switch v := m.GetResponse().(type) {
		case *extprocv3.ProcessingResponse_ImmediateResponse:
			d.immediate = v.ImmediateResponse
			return d, nil
		case *extprocv3.ProcessingResponse_RequestHeaders:
			cr := v.RequestHeaders.GetResponse()
			d.set = map[string]string{}
			for _, h := range cr.GetHeaderMutation().GetSetHeaders() {
				d.set[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
			}
			d.remove = cr.GetHeaderMutation().GetRemoveHeaders()
			d.clearRoute = cr.GetClearRouteCache()
			d.metadata = m.GetDynamicMetadata()
			if noBody {
				return d, nil
			}
		case *extprocv3.ProcessingResponse_RequestBody:
			sr := v.RequestBody.GetResponse().GetBodyMutation().GetStreamedResponse()
			if d.set == nil {
				return d, errors.New("body response before the headers response")
			}
			d.body = append(d.body, sr.GetBody()...)
			d.bodyMsgs++
			d.maxMsg = max(d.maxMsg, len(sr.GetBody()))
			if sr.GetEndOfStream() {
				if r.trailers {
					return d, errors.New("end_of_stream on the body of a request that ends with trailers")
				}
				return d, nil
			}
		case *extprocv3.ProcessingResponse_RequestTrailers:
			if !r.trailers {
				return d, errors.New("trailers response without trailers")
			}
			d.trailers = true
			return d, nil
		default:
			return d, fmt.Errorf("unexpected message %T", v)
		}
	}
}

// servedMetadata is response metadata naming the endpoint that served.
func servedMetadata(addr string) *corev3.Metadata {
	if addr == "" {
		return nil
	}
	st, _ := structpb.NewStruct(map[string]any{HeaderDestinationServed: addr})
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{NamespaceLB: st}}
}

// respond replays the response: headers (with served in the envoy.lb
// metadata), each chunk, trailers; it returns the body the picker passed
// back and whether it removed Content-Length.
func (s *envoyStream) respond(status int, hdrs [][2]string, served string, chunks [][]byte, trailers bool) ([]byte, bool, error) {
	noBody := len(chunks) == 0 && !trailers
	all := append([][2]string{{":status", strconv.Itoa(status)}}, hdrs...)
	if err := s.send(&extprocv3.ProcessingRequest{
		Request:         &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: headerMap(all), EndOfStream: noBody}},
		MetadataContext: servedMetadata(served),
	}); err != nil {
		return nil, false, err
	}
	m, err := s.next()
	if err != nil {
		return nil, false, err
	}
	rh, ok := m.GetResponse().(*extprocv3.ProcessingResponse_ResponseHeaders)
	if !ok {
		return nil, false, fmt.Errorf("want a response headers response, got %T", m.GetResponse())
	}
	dropped := false
	for _, h := range rh.ResponseHeaders.GetResponse().GetHeaderMutation().GetRemoveHeaders() {
		dropped = dropped || h == "content-length"
	}
	if noBody {
		return nil, dropped, nil
	}
	for i, c := range chunks {
		if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
			ResponseBody: &extprocv3.HttpBody{Body: c, EndOfStream: i == len(chunks)-1 && !trailers},
		}}); err != nil {
			return nil, dropped, err
		}
	}
	if trailers {
		if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseTrailers{
			ResponseTrailers: &extprocv3.HttpTrailers{},
		}}); err != nil {
			return nil, dropped, err
		}
	}
	var body []byte
	for {
		m, err := s.next()
		if err != nil {
			return body, dropped, err
		}
		switch v := m.GetResponse().(type) {
		case *extprocv3.ProcessingResponse_ResponseBody:
			sr := v.ResponseBody.GetResponse().GetBodyMutation().GetStreamedResponse()
			body = append(body, sr.GetBody()...)
			if sr.GetEndOfStream() {
				return body, dropped, nil
			}
		case *extprocv3.ProcessingResponse_ResponseTrailers:
			return body, dropped, nil
		default:
			return body, dropped, fmt.Errorf("unexpected message %T", v)
		}
	}
}

// finish half-closes the stream as Envoy does once the exchange is over.
func (s *envoyStream) finish() { _ = s.ps.CloseSend() }

// destination parses the decision's header exactly as Envoy's ORIGINAL_DST
// cluster does: one ip:port, nothing else.
func destination(d decided) (netip.AddrPort, error) {
	return netip.ParseAddrPort(d.set[HeaderDestination])
}

// forward sends the decided request where the picker chose (the ORIGINAL_DST
// step) and returns the upstream response.
func forward(ctx context.Context, d decided, r httpReq) (*http.Response, error) {
	ap, err := destination(d)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.set[HeaderDestination], err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ap.String()+r.path, bytes.NewReader(d.body))
	if err != nil {
		return nil, err
	}
	removed := map[string]bool{}
	for _, h := range d.remove {
		removed[h] = true
	}
	for _, h := range r.headers {
		if !removed[h[0]] {
			req.Header.Set(h[0], h[1])
		}
	}
	for k, v := range d.set {
		if k != "content-length" {
			req.Header.Set(k, v)
		}
	}
	if n, err := strconv.Atoi(d.set["content-length"]); err != nil || n != len(d.body) {
		return nil, fmt.Errorf("content-length %q for a body of %d bytes", d.set["content-length"], len(d.body))
	}
	return http.DefaultClient.Do(req)
}

// split cuts b into pieces of n bytes.
func split(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

// readAll reads a response body.
func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listen returns a loopback listener on a free port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
