package envoystandin

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// pickerStream is one Process stream seen by the fake picker; it records
// every message received.
type pickerStream struct {
	srv extprocv3.ExternalProcessor_ProcessServer
	got []*extprocv3.ProcessingRequest
}

// recv reads and records one message.
func (p *pickerStream) recv() (*extprocv3.ProcessingRequest, error) {
	m, err := p.srv.Recv()
	if err == nil {
		p.got = append(p.got, m)
	}
	return m, err
}

// streamRecord is what the fake picker saw on one stream: the messages and
// the error that ended the stream from the picker's side (io.EOF or a
// cancellation), or the script's own error.
type streamRecord struct {
	msgs []*extprocv3.ProcessingRequest
	end  error
}

// pickerScript plays the picker's side of one stream.
type pickerScript func(p *pickerStream) error

// fakePicker is an ExternalProcessor server running a script per stream.
type fakePicker struct {
	extprocv3.UnimplementedExternalProcessorServer
	script  pickerScript
	streams chan streamRecord
}

// Process runs the script and records the stream.
func (f *fakePicker) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	p := &pickerStream{srv: srv}
	err := f.script(p)
	end := err
	if err == nil {
		// Drain until the stand-in closes or resets the stream.
		for {
			if _, rerr := p.recv(); rerr != nil {
				end = rerr
				break
			}
		}
	}
	f.streams <- streamRecord{msgs: p.got, end: end}
	var se scriptError
	if errors.As(err, &se) {
		return se.err
	}
	return nil
}

// scriptError makes Process return err as the stream's status.
type scriptError struct{ err error }

func (e scriptError) Error() string {
	if e.err == nil {
		return "picker ends the stream cleanly"
	}
	return e.err.Error()
}

// startPicker serves script on a loopback gRPC listener, with TLS when cert
// is non-nil, and returns the picker and its address.
func startPicker(t *testing.T, script pickerScript, cert *tls.Certificate) (*fakePicker, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})))
	}
	srv := grpc.NewServer(opts...)
	f := &fakePicker{script: script, streams: make(chan streamRecord, 64)}
	extprocv3.RegisterExternalProcessorServer(srv, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return f, ln.Addr().String()
}

// nextStream returns the next finished stream record.
func (f *fakePicker) nextStream(t *testing.T) streamRecord {
	t.Helper()
	select {
	case r := <-f.streams:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("picker stream did not end")
		return streamRecord{}
	}
}

// echoOpts configure echoPicker.
type echoOpts struct {
	// dest returns the destination header value for the request headers.
	dest func(headers map[string]string) string
	// metadataDest, when non-empty, is put in envoy.lb dynamic metadata;
	// "=" means the same as the header.
	metadataDest string
	// reqMutation adds to the request header mutation.
	reqMutation func(m *extprocv3.HeaderMutation)
	// respMutation is the response header mutation.
	respMutation func(m *extprocv3.HeaderMutation)
	// trailerMutation is the request trailers mutation.
	trailerMutation *extprocv3.HeaderMutation
	// chunk is the size of the body chunks streamed back (default 62000,
	// upstream's picker's).
	chunk int
	// immediate, when set, answers the request with it after the body.
	immediate *extprocv3.ImmediateResponse
	// afterDecision runs after the header response is sent.
	afterDecision func()
	// usage, when set, is dynamic metadata on the last response body answer
	// (as upstream's request-attribute-reporter sends a request cost).
	usage *structpb.Struct
}

// echoPicker answers like upstream's picker: it reads the whole request,
// answers the headers (destination header, clear_route_cache), streams the
// body back, then passes the response through chunk by chunk.
func echoPicker(o echoOpts) pickerScript {
	if o.chunk == 0 {
		o.chunk = 62000
	}
	return func(p *pickerStream) error {
		m, err := p.recv()
		if err != nil {
			return err
		}
		hm := headerValues(m.GetRequestHeaders().GetHeaders())
		eos := m.GetRequestHeaders().GetEndOfStream()
		hasBody := !eos
		var body []byte
		trailers := false
		for !eos {
			if m, err = p.recv(); err != nil {
				return err
			}
			switch r := m.GetRequest().(type) {
			case *extprocv3.ProcessingRequest_RequestBody:
				body = append(body, r.RequestBody.GetBody()...)
				eos = r.RequestBody.GetEndOfStream()
			case *extprocv3.ProcessingRequest_RequestTrailers:
				trailers, eos = true, true
			default:
				return errors.New("unexpected request message")
			}
		}
		if o.immediate != nil {
			return p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: o.immediate}})
		}
		dest := ""
		if o.dest != nil {
			dest = o.dest(hm)
		}
		mut := &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{setHeader(DestinationHeader, dest)}}
		if o.reqMutation != nil {
			o.reqMutation(mut)
		}
		resp := &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{
			Response: &extprocv3.CommonResponse{HeaderMutation: mut, ClearRouteCache: true},
		}}}
		if o.metadataDest != "" {
			md := o.metadataDest
			if md == "=" {
				md = dest
			}
			resp.DynamicMetadata = lbMetadata(md)
		}
		if err := p.srv.Send(resp); err != nil {
			return err
		}
		if o.afterDecision != nil {
			o.afterDecision()
		}
		if hasBody {
			for off := 0; ; off += o.chunk {
				end := min(off+o.chunk, len(body))
				last := end == len(body)
				if err := p.srv.Send(streamedBody(true, body[off:end], last && !trailers)); err != nil {
					return err
				}
				if last {
					break
				}
			}
			if trailers {
				tm := o.trailerMutation
				if tm == nil {
					tm = &extprocv3.HeaderMutation{}
				}
				if err := p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{
					RequestTrailers: &extprocv3.TrailersResponse{HeaderMutation: tm},
				}}); err != nil {
					return err
				}
			}
		}
		return passResponse(p, o.respMutation, o.usage)
	}
}

// passResponse answers the response path: headers (with mutation), then each
// body chunk echoed back at once, then trailers.
func passResponse(p *pickerStream, mutation func(*extprocv3.HeaderMutation), usage *structpb.Struct) error {
	m, err := p.recv()
	if err != nil {
		return err
	}
	rh := m.GetResponseHeaders()
	if rh == nil {
		return errors.New("expected response headers")
	}
	mut := &extprocv3.HeaderMutation{}
	if mutation != nil {
		mutation(mut)
	}
	if err := p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{
		Response: &extprocv3.CommonResponse{HeaderMutation: mut},
	}}}); err != nil {
		return err
	}
	if rh.GetEndOfStream() {
		return nil
	}
	for {
		m, err := p.recv()
		if err != nil {
			return err
		}
		switch r := m.GetRequest().(type) {
		case *extprocv3.ProcessingRequest_ResponseBody:
			answer := streamedBody(false, r.ResponseBody.GetBody(), r.ResponseBody.GetEndOfStream())
			if r.ResponseBody.GetEndOfStream() {
				answer.DynamicMetadata = usage
			}
			if err := p.srv.Send(answer); err != nil {
				return err
			}
			if r.ResponseBody.GetEndOfStream() {
				return nil
			}
		case *extprocv3.ProcessingRequest_ResponseTrailers:
			return p.srv.Send(&extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{
				ResponseTrailers: &extprocv3.TrailersResponse{HeaderMutation: &extprocv3.HeaderMutation{}},
			}})
		default:
			return errors.New("unexpected response message")
		}
	}
}

// streamedBody is a FULL_DUPLEX_STREAMED body answer.
func streamedBody(request bool, b []byte, eos bool) *extprocv3.ProcessingResponse {
	br := &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{
		Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{Body: b, EndOfStream: eos}},
	}}}
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: br}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: br}}
}

// setHeader is a set_headers entry using raw_value, as upstream's picker
// sends it.
func setHeader(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}}
}

// appendHeader is an appending set_headers entry.
func appendHeader(k, v string) *corev3.HeaderValueOption {
	o := setHeader(k, v)
	//lint:ignore SA1019 Envoy's ext_proc filter reads the deprecated append field.
	o.Append = wrapperspb.Bool(true)
	return o
}

// lbMetadata is dynamic metadata naming a destination in envoy.lb.
func lbMetadata(dest string) *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		LBNamespace: structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			DestinationHeader: structpb.NewStringValue(dest),
		}}),
	}}
}

// headerValues flattens a HeaderMap (first raw_value of each key).
func headerValues(h *corev3.HeaderMap) map[string]string {
	out := map[string]string{}
	for _, e := range h.GetHeaders() {
		if _, ok := out[e.GetKey()]; !ok {
			out[e.GetKey()] = string(e.GetRawValue())
		}
	}
	return out
}

// immediateResponse builds an ImmediateResponse.
func immediateResponse(code int, body string, headers ...*corev3.HeaderValueOption) *extprocv3.ImmediateResponse {
	return &extprocv3.ImmediateResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(code)},
		Headers: &extprocv3.HeaderMutation{SetHeaders: headers},
		Body:    []byte(body),
		Details: "picker said no",
	}
}

// seenRequest is what the upstream received.
type seenRequest struct {
	method, uri, host string
	header            http.Header
	trailer           http.Header
	body              []byte
	contentLength     int64
	transferEncoding  []string
}

// upstream is a real net/http server on loopback recording requests.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seenRequest
	// respond writes the response; nil answers 200 with a JSON body.
	respond func(w http.ResponseWriter, r *http.Request)
}

// startUpstream starts an upstream with respond (nil: a small JSON answer).
func startUpstream(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *upstream {
	t.Helper()
	u := &upstream{respond: respond}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, seenRequest{
			method: r.Method, uri: r.RequestURI, host: r.Host, header: r.Header.Clone(), trailer: r.Trailer.Clone(),
			body: body, contentLength: r.ContentLength, transferEncoding: r.TransferEncoding,
		})
		u.mu.Unlock()
		if u.respond != nil {
			u.respond(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// addr returns the upstream's ip:port.
func (u *upstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

// requests returns what the upstream received so far.
func (u *upstream) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.reqs...)
}

// newStandIn starts a stand-in for the picker at addr with results
// delivered to the returned channel.
func newStandIn(t *testing.T, addr string, edit func(*Config)) (*StandIn, chan Result) {
	t.Helper()
	results := make(chan Result, 64)
	// A generous message timeout: this machine is shared and the race
	// detector is slow; the timeout tests set their own.
	cfg := Config{ExtProcAddr: addr, Plaintext: true, MessageTimeout: 5 * time.Second, OnResult: func(r Result) { results <- r }}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, results
}

// nextResult waits for the next request result.
func nextResult(t *testing.T, ch chan Result) Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
		return Result{}
	}
}

// toUpstream is an echoOpts.dest sending everything to u.
func toUpstream(u *upstream) func(map[string]string) string {
	return func(map[string]string) string { return u.addr() }
}
