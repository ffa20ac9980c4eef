package envoystandin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// errStreamReset ends the upstream request body when the exchange is reset.
var errStreamReset = errors.New("envoy stand-in: stream reset")

// errClosedEarly is the error of an exchange whose picker ended its stream
// cleanly before the exchange was over.
var errClosedEarly = errors.New("picker closed its stream before the exchange was over")

// recvItem is one thing read from the picker's stream: a message, or the
// error that ended it (io.EOF for a clean close). One channel keeps them in
// order.
type recvItem struct {
	msg *extprocv3.ProcessingResponse
	err error
}

// upstreamResult is the outcome of the upstream round trip.
type upstreamResult struct {
	resp *http.Response
	err  error
}

// exchange is one client request's life: its ext_proc stream, its upstream
// request and its response. run executes on the request's goroutine, which
// owns all state not marked otherwise; the helper goroutines (stream
// receiver, request and response pumps, upstream round trip) are tracked by
// wg and stopped by cancel.
type exchange struct {
	s   *StandIn
	cfg *Config
	log *slog.Logger
	w   http.ResponseWriter
	r   *http.Request
	rc  *http.ResponseController

	ctx    context.Context
	cancel context.CancelFunc
	stream extprocv3.ExternalProcessor_ProcessClient
	sendMu sync.Mutex
	wg     sync.WaitGroup

	recv        chan recvItem
	upstreamC   chan upstreamResult
	reqPumpErr  chan error
	respPumpErr chan error

	// Shared with the pumps.
	sending        atomic.Int32                    // Sends in progress (flow control is not idleness)
	lastActivity   atomic.Int64                    // time.Now().UnixNano() of the last message sent or received
	reqEndAt       atomic.Int64                    // cfg.Now().UnixNano() when the last request message was sent
	reqChunks      atomic.Int64                    // request body messages sent
	reqPumpRunning atomic.Bool                     // the request pump may be blocked reading the client
	reqTrailers    atomic.Pointer[headerList]      // request trailers, once sent to the picker
	respTrailers   atomic.Pointer[headerList]      // response trailers, once sent to the picker
	respUnanswered atomic.Bool                     // a response chunk was sent after the picker's last body answer
	respEndSent    atomic.Bool                     // the response's end (end_of_stream or trailers) was sent
	respLat        chunkLatency                    // response chunk send times
	reqMeta        *corev3.Metadata                // subset hint; read-only once set
	respMeta       atomic.Pointer[corev3.Metadata] // served endpoint; set before the response pump starts

	// Owned by run.
	reqHeaders       headerList
	bodiless         bool
	awaitReqHeaders  bool
	reqBodyOpen      bool
	upstreamPending  bool
	awaitRespHeaders bool
	respBodyOpen     bool
	respDone         bool
	respStarted      bool
	flushPending     bool // client bytes written and not yet flushed
	pickerClosed     bool // the picker ended its stream cleanly with nothing owed
	decided          bool
	pipeW            *io.PipeWriter
	upTrailer        http.Header
	declaredTrailers []string // trailer names the client declared, read before the body
	forceTrailers    bool     // Config.EndWithTrailers said so; read-only once the pump runs
	served           string
	upstreamStart    time.Time
	respHeaders      headerList
	respBody         io.ReadCloser
	abort            bool // reset the client's stream when run returns
	start            time.Time
	res              Result
}

// newExchange prepares the exchange for r.
func newExchange(s *StandIn, w http.ResponseWriter, r *http.Request) *exchange {
	ctx, cancel := context.WithCancel(r.Context())
	return &exchange{
		s: s, cfg: &s.cfg, log: s.cfg.Logger, w: w, r: r, rc: http.NewResponseController(w),
		ctx: ctx, cancel: cancel,
		recv:        make(chan recvItem, 16),
		upstreamC:   make(chan upstreamResult, 1),
		reqPumpErr:  make(chan error, 1),
		respPumpErr: make(chan error, 1),
		res:         Result{DynamicMetadata: map[string]*structpb.Struct{}},
		start:       s.cfg.Now(),
	}
}

// run drives the exchange to its end.
func (e *exchange) run() {
	stop := context.AfterFunc(e.s.ctx, e.cancel)
	defer stop()
	defer e.finish()

	skip := func(k string) bool { return k == "expect" }
	if e.cfg.SubsetHint != nil {
		if hint, ok := e.cfg.SubsetHint(e.r); ok {
			e.reqMeta = subsetMetadata(hint)
		}
	} else {
		hint, ok, err := subsetFromHeader(e.r)
		if err != nil {
			e.writeLocalReply(http.StatusBadRequest, nil, []byte(err.Error()), DetailsBadSubsetHint)
			return
		}
		if ok {
			e.reqMeta = subsetMetadata(hint)
		}
		skip = func(k string) bool { return k == "expect" || k == SubsetHeader }
	}
	e.reqHeaders = requestHeaders(e.r, skip)
	for k := range e.r.Trailer {
		e.declaredTrailers = append(e.declaredTrailers, k)
	}
	e.bodiless = e.r.Body == nil || e.r.Body == http.NoBody

	stream, err := e.s.client.Process(e.ctx)
	if err != nil {
		e.streamFailed(err)
		return
	}
	e.stream = stream
	e.wg.Add(1)
	go e.receive()

	e.send(&extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
			Headers: e.reqHeaders.proto(), EndOfStream: e.bodiless,
		}},
		MetadataContext: e.reqMeta,
		ProtocolConfig: &extprocv3.ProtocolConfiguration{
			RequestBodyMode:  extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED,
			ResponseBodyMode: extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED,
		},
	})
	e.awaitReqHeaders = true
	if e.bodiless {
		e.reqEndAt.Store(e.cfg.Now().UnixNano())
	} else {
		e.forceTrailers = e.cfg.EndWithTrailers != nil && e.cfg.EndWithTrailers(e.r)
		_ = e.rc.EnableFullDuplex()
		e.reqPumpRunning.Store(true)
		e.wg.Add(1)
		go e.pumpRequest()
	}
	e.loop()
}

// loop handles events until the response is complete or the exchange ends.
func (e *exchange) loop() {
	timeout := e.cfg.MessageTimeout
	var timer *time.Timer
	var timerC <-chan time.Time
	if timeout > 0 {
		timer = time.NewTimer(timeout)
		defer timer.Stop()
		timerC = timer.C
	}
	for !e.respDone {
		if e.flushPending && len(e.recv) == 0 {
			e.flushClient()
		}
		select {
		case it := <-e.recv:
			if it.err != nil {
				if !e.streamEnded(it.err) {
					return
				}
				continue
			}
			e.touch()
			if !e.handle(it.msg) {
				return
			}
		case up := <-e.upstreamC:
			if !e.upstreamDone(up) {
				return
			}
		case err := <-e.reqPumpErr:
			e.reset(DetailsDownstreamReset, err)
			return
		case err := <-e.respPumpErr:
			e.reset(DetailsUpstreamReset, err)
			return
		case <-e.ctx.Done():
			e.reset(DetailsDownstreamReset, e.ctx.Err())
			return
		case <-timerC:
			if !e.awaitingPicker() || e.sending.Load() > 0 {
				// Not waiting, or the picker is flow-controlling a send:
				// the timer measures from the last message sent.
				timer.Reset(timeout)
				continue
			}
			idle := time.Since(time.Unix(0, e.lastActivity.Load()))
			if idle >= timeout {
				e.messageTimeout()
				return
			}
			timer.Reset(timeout - idle)
		}
	}
}

// awaitingPicker reports whether the exchange waits for a picker answer to
// something it sent: the request's answers once the whole request was sent
// (the picker may legitimately wait for the rest of a slow upload), the
// response headers' answer, and body answers for response chunks sent since
// the picker's last body answer (a slow upstream is not the picker's fault).
func (e *exchange) awaitingPicker() bool {
	reqEnded := e.reqEndAt.Load() != 0
	return (e.awaitReqHeaders && reqEnded) || (e.reqBodyOpen && reqEnded) || e.awaitRespHeaders ||
		(e.respBodyOpen && (e.respUnanswered.Load() || e.respEndSent.Load()))
}

// touch records picker activity for the message timeout.
func (e *exchange) touch() { e.lastActivity.Store(time.Now().UnixNano()) }

// send writes one message on the stream. A failure surfaces as the
// receiver's error, as gRPC reports the stream's status there.
func (e *exchange) send(m *extprocv3.ProcessingRequest) {
	e.sending.Add(1)
	e.sendMu.Lock()
	err := e.stream.Send(m)
	e.sendMu.Unlock()
	e.touch()
	e.sending.Add(-1)
	if err != nil && !errors.Is(err, io.EOF) {
		e.log.Debug("envoy stand-in: send to picker failed", "err", err)
	}
}

// receive reads the picker's messages until the stream ends.
func (e *exchange) receive() {
	defer e.wg.Done()
	for {
		m, err := e.stream.Recv()
		select {
		case e.recv <- recvItem{m, err}:
		case <-e.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// handle applies one picker message as Envoy's ext_proc filter does.
func (e *exchange) handle(m *extprocv3.ProcessingResponse) bool {
	if m.GetOverrideMessageTimeout() != nil {
		return true // ignored, as Envoy does without max_message_timeout
	}
	// Envoy keeps the dynamic metadata of every answer (request and response
	// paths share the stream info); a spurious message's is kept too, which
	// does not matter as the exchange ends.
	mergeDynamicMetadata(e.res.DynamicMetadata, m.GetDynamicMetadata())
	switch v := m.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		e.immediate(v.ImmediateResponse)
		return false
	case *extprocv3.ProcessingResponse_RequestHeaders:
		if !e.awaitReqHeaders {
			return e.spurious("request_headers response not awaited")
		}
		return e.onRequestHeaders(v.RequestHeaders.GetResponse())
	case *extprocv3.ProcessingResponse_RequestBody:
		sr := v.RequestBody.GetResponse().GetBodyMutation().GetStreamedResponse()
		if !e.reqBodyOpen || sr == nil {
			return e.spurious("request_body response not awaited or not a streamed_response")
		}
		e.writeUpstreamBody(sr.GetBody())
		if sr.GetEndOfStream() {
			e.endUpstreamBody()
		}
		return true
	case *extprocv3.ProcessingResponse_RequestTrailers:
		tr := e.reqTrailers.Load()
		if !e.reqBodyOpen || tr == nil {
			return e.spurious("request_trailers response not awaited")
		}
		ign, err := applyHeaderMutation(tr, v.RequestTrailers.GetHeaderMutation(), filterRules, false)
		e.res.IgnoredMutations += ign
		if err != nil {
			return e.mutationFailed(err)
		}
		if e.upTrailer != nil {
			for _, h := range *tr {
				e.upTrailer.Add(h.key, h.value)
			}
		}
		e.endUpstreamBody()
		return true
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		if !e.awaitRespHeaders {
			return e.spurious("response_headers response not awaited")
		}
		return e.onResponseHeaders(v.ResponseHeaders.GetResponse())
	case *extprocv3.ProcessingResponse_ResponseBody:
		sr := v.ResponseBody.GetResponse().GetBodyMutation().GetStreamedResponse()
		if !e.respBodyOpen || sr == nil {
			return e.spurious("response_body response not awaited or not a streamed_response")
		}
		e.respUnanswered.Store(false)
		e.writeClientBody(sr.GetBody(), sr.GetEndOfStream())
		return true
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		tr := e.respTrailers.Load()
		if !e.respBodyOpen || tr == nil {
			return e.spurious("response_trailers response not awaited")
		}
		ign, err := applyHeaderMutation(tr, v.ResponseTrailers.GetHeaderMutation(), filterRules, false)
		e.res.IgnoredMutations += ign
		if err != nil {
			return e.mutationFailed(err)
		}
		e.respLat.finish(e.cfg.Now(), &e.res)
		for _, h := range *tr {
			e.w.Header().Add(http.TrailerPrefix+h.key, h.value)
		}
		e.respBodyOpen = false
		e.respDone = true
		return true
	default:
		return e.spurious("unsupported message")
	}
}

// onRequestHeaders applies the header response and routes the request.
func (e *exchange) onRequestHeaders(cr *extprocv3.CommonResponse) bool {
	now := e.cfg.Now()
	if cr.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE {
		return e.spurious("CONTINUE_AND_REPLACE is not modelled")
	}
	ign, err := applyHeaderMutation(&e.reqHeaders, cr.GetHeaderMutation(), filterRules, true)
	e.res.IgnoredMutations += ign
	if err != nil {
		return e.mutationFailed(err)
	}
	if cr.GetClearRouteCache() && cr.GetHeaderMutation() != nil {
		e.res.ClearRouteCache = true
	}
	e.awaitReqHeaders = false
	e.decided = true
	if end := e.reqEndAt.Load(); end != 0 {
		e.res.DecisionLatency = max(now.Sub(time.Unix(0, end)), 0)
	}
	e.reqBodyOpen = !e.bodiless
	return e.route()
}

// onResponseHeaders applies the response header answer and starts the
// client's response.
func (e *exchange) onResponseHeaders(cr *extprocv3.CommonResponse) bool {
	ign, err := applyHeaderMutation(&e.respHeaders, cr.GetHeaderMutation(), filterRules, true)
	e.res.IgnoredMutations += ign
	if err != nil {
		return e.mutationFailed(err)
	}
	e.awaitRespHeaders = false
	status := http.StatusBadGateway
	if v, ok := e.respHeaders.get(":status"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 100 && n <= 999 {
			status = n
		}
	}
	h := e.w.Header()
	for _, kv := range e.respHeaders {
		if kv.key[0] == ':' || kv.key == "content-length" || hopByHop[kv.key] {
			continue
		}
		ck := http.CanonicalHeaderKey(kv.key)
		h[ck] = append(h[ck], kv.value)
	}
	e.w.WriteHeader(status)
	_ = e.rc.Flush()
	e.respStarted = true
	e.res.Status = status
	if e.respBody != nil {
		e.respBodyOpen = true
	} else {
		e.respDone = true
	}
	return true
}

// writeClientBody writes the picker's response bytes to the client. Like
// Envoy, which writes what one read of the picker's connection brought in
// one go, it flushes only when no other picker message is waiting (the
// loop flushes before it blocks) or at the end of the body.
func (e *exchange) writeClientBody(b []byte, eos bool) {
	if len(b) > 0 {
		_, _ = e.w.Write(b)
		e.flushPending = true
	}
	if e.flushPending && (eos || len(e.recv) == 0) {
		e.flushClient()
	}
	now := e.cfg.Now()
	e.respLat.received(int64(len(b)), now, &e.res)
	if eos {
		e.respLat.finish(now, &e.res)
		e.respBodyOpen = false
		e.respDone = true
	}
}

// flushClient sends what was written to the client.
func (e *exchange) flushClient() {
	_ = e.rc.Flush()
	e.flushPending = false
}

// spurious ends the exchange on a message Envoy would not expect (see the
// package doc for how this differs from Envoy).
func (e *exchange) spurious(why string) bool {
	e.reset(DetailsSpurious, errors.New(why))
	return false
}

// mutationFailed answers an invalid mutation as Envoy does: 500, with the
// error text as details.
func (e *exchange) mutationFailed(err error) bool {
	e.reset(envoyDetails(err.Error()), err)
	return false
}

// messageTimeout answers an expired message timeout as Envoy does with
// failure_mode_allow false.
func (e *exchange) messageTimeout() {
	e.reset(DetailsMessageTimeout, errors.New("ext_proc message timeout"))
}

// streamEnded handles the end of the picker's stream.
func (e *exchange) streamEnded(err error) bool {
	if errors.Is(err, io.EOF) {
		if e.awaitReqHeaders || e.reqBodyOpen || e.awaitRespHeaders || e.respBodyOpen {
			e.reset(DetailsClosedEarly, errClosedEarly)
			return false
		}
		// Nothing owed yet: the response will find the picker gone.
		e.pickerClosed = true
		return true
	}
	e.streamFailed(err)
	return false
}

// finish stops everything the exchange started and reports its result.
func (e *exchange) finish() {
	// Envoy's onDestroy: close the stream, then reset it.
	if e.stream != nil && e.sendMu.TryLock() {
		_ = e.stream.CloseSend()
		e.sendMu.Unlock()
	}
	e.cancel()
	if e.pipeW != nil {
		_ = e.pipeW.CloseWithError(errStreamReset)
	}
	// A request pump still reading the client's body (the answer came
	// before the upload ended) is unblocked by a read deadline; net/http
	// then closes the connection, as Envoy closes it after a local reply
	// to an unfinished request.
	if e.reqPumpRunning.Load() {
		_ = e.rc.SetReadDeadline(time.Now())
	}
	e.wg.Wait()
	select {
	case up := <-e.upstreamC:
		if up.resp != nil {
			_ = up.resp.Body.Close()
		}
	default:
	}
	if e.respBody != nil {
		_ = e.respBody.Close()
	}
	e.res.RequestChunks = int(e.reqChunks.Load())
	e.res.RequestTrailers = e.reqTrailers.Load() != nil
	e.res.ResponseChunks = e.respLat.count()
	e.res.Duration = e.cfg.Now().Sub(e.start)
	if e.res.Err != nil {
		e.log.Debug("envoy stand-in: request ended early", "status", e.res.Status, "details", e.res.Details, "err", e.res.Err)
	}
	e.s.stats.record(&e.res, e.decided)
	if e.cfg.OnResult != nil {
		e.cfg.OnResult(e.res)
	}
}
