package extproc

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/exchange"
	"github.com/infergate/infergate/internal/pool"
)

// Addresses of the unit tests' endpoints: nothing listens there, Envoy
// (the test) never forwards to them.
var (
	epA = "10.0.0.1:8000"
	epB = "10.0.0.2:8000"
)

// immediateHeader returns a header of an immediate response.
func immediateHeader(ir *extprocv3.ImmediateResponse, name string) string {
	for _, h := range ir.GetHeaders().GetSetHeaders() {
		if h.GetHeader().GetKey() == name {
			return string(h.GetHeader().GetRawValue())
		}
	}
	return ""
}

// openAIError decodes an OpenAI error body, failing the test otherwise.
func openAIError(t *testing.T, body []byte) (typ, code string) {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error: %q", body)
	}
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	return e.Error.Type, code
}

// subsetMetadata is request metadata carrying a subset hint.
func subsetMetadata(addrs ...string) *corev3.Metadata {
	vals := make([]any, len(addrs))
	for i, a := range addrs {
		vals[i] = a
	}
	st, _ := structpb.NewStruct(map[string]any{HeaderDestinationSubset: vals})
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{NamespaceSubsetHint: st}}
}

func TestImmediateResponses(t *testing.T) {
	saturated := poolDef{name: "busy", addrs: []string{epA}, models: []string{"busy-model"}, queue: 100}
	ok := poolDef{name: "test", addrs: []string{epA, epB}, models: []string{"base"}}
	tests := []struct {
		name    string
		opts    Options
		req     httpReq
		status  int
		code    string
		dropped string
	}{
		{name: "bad json", req: httpReq{path: "/v1/completions", body: []byte(`{"model":`)}, status: 400},
		{name: "no body", req: httpReq{path: "/v1/completions"}, status: 400},
		{name: "unknown model", req: httpReq{path: "/v1/completions", body: []byte(`{"model":"nope","prompt":"x"}`)}, status: 404, code: "model_not_found"},
		{name: "too large", opts: Options{MaxBodyBytes: 1000}, req: httpReq{path: "/v1/chat/completions", body: chatBody("base", 5000, false), chunk: 512}, status: 413},
		{name: "shed", req: httpReq{path: "/v1/completions", body: []byte(`{"model":"busy-model","prompt":"x"}`),
			headers: [][2]string{{exchange.HeaderObjective, "batch"}}}, status: 429, dropped: exchange.DroppedSaturated},
		{name: "empty subset", req: httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`), metadata: subsetMetadata()},
			status: 503, dropped: exchange.DroppedNoEndpoints},
		{name: "subset matches nothing", req: httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`), metadata: subsetMetadata("10.9.9.9:8000")},
			status: 503, dropped: exchange.DroppedNoEndpoints},
		{name: "unknown url", req: httpReq{path: "/v2/things", body: []byte(`{}`)}, status: 404, code: "unknown_url"},
		{name: "wrong method", req: httpReq{method: http.MethodGet, path: "/v1/completions"}, status: 405},
		{name: "models by post", req: httpReq{path: "/v1/models", body: []byte(`{}`)}, status: 405},
		{name: "bad control header", req: httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`),
			headers: [][2]string{{exchange.HeaderSLOTTFT, "soon"}}}, status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startPicker(t, tc.opts, ok, saturated)
			s := openStream(t, dialPicker(t, p.addr), testTimeout)
			d, err := s.request(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			ir := d.immediate
			if ir == nil {
				t.Fatalf("no immediate response; decision %v", d.set)
			}
			if got := int(ir.GetStatus().GetCode()); got != tc.status {
				t.Fatalf("status %d, want %d: %s", got, tc.status, ir.GetBody())
			}
			if _, code := openAIError(t, ir.GetBody()); tc.code != "" && code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
			if ct := immediateHeader(ir, "content-type"); ct != "application/json" {
				t.Errorf("content-type %q", ct)
			}
			if got := immediateHeader(ir, exchange.HeaderDroppedReason); got != tc.dropped {
				t.Errorf("dropped reason %q, want %q", got, tc.dropped)
			}
			if ra := immediateHeader(ir, "retry-after"); (tc.dropped != "") != (ra == "1") {
				t.Errorf("retry-after %q with dropped reason %q", ra, tc.dropped)
			}
			if _, err := s.next(); err == nil {
				t.Error("stream still open after an immediate response")
			}
		})
	}
}

// TestBodyBudgetShared: a budget smaller than a body refuses it with 503
// (rejected-saturated), and gives every byte back.
func TestBodyBudgetShared(t *testing.T) {
	budget := admission.NewBudget(32 << 10)
	p := startPicker(t, Options{Budget: budget}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/chat/completions", body: chatBody("base", 100_000, false)})
	if err != nil {
		t.Fatal(err)
	}
	if d.immediate == nil || d.immediate.GetStatus().GetCode() != 503 || immediateHeader(d.immediate, exchange.HeaderDroppedReason) != exchange.DroppedSaturated {
		t.Fatalf("immediate %v", d.immediate)
	}
	p.rec.waitRecords(t, 1)
	if budget.Used() != 0 {
		t.Errorf("%d budget bytes still held", budget.Used())
	}
}

func TestModelsList(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base", "lora-a"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{method: http.MethodGet, path: "/v1/models?x=1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.immediate == nil || d.immediate.GetStatus().GetCode() != 200 {
		t.Fatalf("immediate %v", d.immediate)
	}
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID, Object string
		} `json:"data"`
	}
	if err := json.Unmarshal(d.immediate.GetBody(), &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	if list.Object != "list" || !slices.Equal(ids, []string{"alias", "base", "lora-a"}) {
		t.Errorf("models %s", d.immediate.GetBody())
	}
}

// TestSubsetHintRestrictsPick: with a hint naming B (by ip:port, as Envoy
// lists pods), every pick is B although A is less loaded.
func TestSubsetHintRestrictsPick(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA, epB}, models: []string{"base"}})
	for range 5 {
		s := openStream(t, dialPicker(t, p.addr), testTimeout)
		d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"hello"}`), metadata: subsetMetadata("10.0.0.2:9999", "bogus")})
		if err != nil || d.immediate != nil {
			t.Fatalf("request: %v %v", err, d.immediate)
		}
		if dest := d.set[HeaderDestination]; dest != epB {
			t.Fatalf("picked %s outside the subset", dest)
		}
		s.cancel()
	}
}

// TestPoolRestriction: a listener's pool is the only one it routes to.
func TestPoolRestriction(t *testing.T) {
	other := poolDef{name: "other", addrs: []string{epB}, models: []string{"other-model"}}
	p := startPicker(t, Options{Pool: "test"}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}}, other)
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"other-model","prompt":"x"}`)})
	if err != nil || d.immediate == nil || d.immediate.GetStatus().GetCode() != 404 {
		t.Fatalf("a model of another pool: %v %v", err, d.immediate)
	}
	s = openStream(t, dialPicker(t, p.addr), testTimeout)
	if d, err = s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)}); err != nil || d.set[HeaderDestination] != epA {
		t.Fatalf("own pool: %v %v", err, d.set)
	}
}

// TestUntrustedControlHeadersRemoved: untrusted, the control headers are
// removed by the header mutation and steer nothing.
func TestUntrustedControlHeadersRemoved(t *testing.T) {
	p := startPicker(t, Options{DropControlHeaders: true}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`),
		headers: [][2]string{{exchange.HeaderModelRewrite, "evil"}, {exchange.HeaderObjectiveLegacy, "batch"}, {exchange.HeaderSLOTTFT, "junk"}}})
	if err != nil || d.immediate != nil {
		t.Fatalf("%v %v", err, d.immediate)
	}
	for _, h := range []string{exchange.HeaderModelRewrite, exchange.HeaderObjectiveLegacy, exchange.HeaderSLOTTFT} {
		if !slices.Contains(d.remove, h) {
			t.Errorf("%s not removed (removed %v)", h, d.remove)
		}
	}
	if strings.Contains(string(d.body), "evil") {
		t.Errorf("rewrite header applied: %s", d.body)
	}
	s.cancel()
}

// TestGeneratedRequestIDIsSet: a missing x-request-id is generated and
// set on the request and the immediate answers.
func TestGeneratedRequestIDIsSet(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)})
	if err != nil || len(d.set[exchange.HeaderRequestID]) != 32 {
		t.Fatalf("request id %q (%v)", d.set[exchange.HeaderRequestID], err)
	}
	s.cancel()
}

// TestServedEndpointAccounting: Envoy reports it served on B although A was
// chosen; the in-flight count moves to B and is released there.
func TestServedEndpointAccounting(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	// B joins the pool after the pick is made (Envoy knows it from elsewhere).
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`),
		headers: [][2]string{{exchange.HeaderFairnessIDLegacy, "tenant-a"}}})
	if err != nil || d.set[HeaderDestination] != epA {
		t.Fatalf("%v %v", err, d.set)
	}
	p.stores["test"].Sync([]pool.Spec{{Name: "test-0", Address: epA}, {Name: "test-1", Address: epB}})
	a, b := p.endpoints("test")[0], p.endpoints("test")[1]
	if a.InFlight() != 1 {
		t.Fatalf("A in flight %d after the decision", a.InFlight())
	}
	if err := s.send(&extprocv3.ProcessingRequest{
		Request:         &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: headerMap([][2]string{{":status", "200"}})}},
		MetadataContext: servedMetadata(epB),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.next(); err != nil {
		t.Fatal(err)
	}
	if a.InFlight() != 0 || b.InFlight() != 1 {
		t.Fatalf("in flight A=%d B=%d, want 0 and 1", a.InFlight(), b.InFlight())
	}
	if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{
		Body: []byte(`{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`), EndOfStream: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.next(); err != nil {
		t.Fatal(err)
	}
	s.finish()
	if r := p.rec.waitRecords(t, 1)[0]; r.ErrorCode != "" || r.OutputTokens != 2 || r.FairnessID != "tenant-a" {
		t.Errorf("record %+v", r)
	}
	if b.InFlight() != 0 {
		t.Errorf("B in flight %d after the end", b.InFlight())
	}
}

// TestClientCancelMidStream: the stream is cancelled in the middle of an
// SSE response (the client went away): everything is released and the
// request is recorded as client-closed.
func TestClientCancelMidStream(t *testing.T) {
	budget := admission.NewBudget(1 << 30)
	p := startPicker(t, Options{Budget: budget}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x","stream":true}`)})
	if err != nil || d.immediate != nil {
		t.Fatalf("%v %v", err, d.immediate)
	}
	if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
		Headers: headerMap([][2]string{{":status", "200"}, {"content-type", "text/event-stream"}})}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.next(); err != nil {
		t.Fatal(err)
	}
	// One whole event and the start of the next.
	if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{
		Body: []byte("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choi")}}}); err != nil {
		t.Fatal(err)
	}
	m, err := s.next()
	if err != nil || string(m.GetResponseBody().GetResponse().GetBodyMutation().GetStreamedResponse().GetBody()) != "data: {\"choices\":[{\"text\":\"a\"}]}\n\n" {
		t.Fatalf("first event: %v %v", m, err)
	}
	ep := p.endpoints("test")[0]
	if ep.InFlight() != 1 || p.rec.runningTotal() != 1 {
		t.Fatalf("in flight %d, running %d mid-stream", ep.InFlight(), p.rec.runningTotal())
	}
	s.cancel()
	r := p.rec.waitRecords(t, 1)[0]
	if r.ErrorCode != exchange.ErrorClientClosed {
		t.Errorf("error code %q, want %q", r.ErrorCode, exchange.ErrorClientClosed)
	}
	if ep.InFlight() != 0 || p.rec.runningTotal() != 0 || budget.Used() != 0 {
		t.Errorf("after cancel: in flight %d, running %d, budget %d", ep.InFlight(), p.rec.runningTotal(), budget.Used())
	}
}

// TestMessageTimeoutEnforced: the fake Envoy's message timeout is real: a
// request whose body never ends gets no answer, and Envoy gives up.
func TestMessageTimeoutEnforced(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), 50*time.Millisecond)
	if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
		Headers: headerMap([][2]string{{":method", "POST"}, {":path", "/v1/completions"}})}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(`{"model":`)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.next(); !errors.Is(err, errMessageTimeout) {
		t.Fatalf("next = %v, want the message timeout", err)
	}
	s.cancel()
	if r := p.rec.waitRecords(t, 1)[0]; r.ErrorCode != exchange.ErrorClientClosed {
		t.Errorf("abandoned request recorded %+v", r)
	}
}

// TestPanicRecovered: a bug in the request path is recovered, counted and
// answered with a 500; the server keeps serving.
func TestPanicRecovered(t *testing.T) {
	rec := &recorder{panicOnRunning: true}
	p := startPicker(t, Options{Metrics: rec}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)})
	if err != nil || d.immediate == nil || d.immediate.GetStatus().GetCode() != 500 {
		t.Fatalf("%v %v", err, d.immediate)
	}
	rec.mu.Lock()
	panics := rec.panics
	rec.mu.Unlock()
	if panics != 1 {
		t.Errorf("%d panics counted", panics)
	}
	s = openStream(t, dialPicker(t, p.addr), testTimeout)
	if d, err = s.request(httpReq{method: http.MethodGet, path: "/v1/models"}); err != nil || d.immediate.GetStatus().GetCode() != 200 {
		t.Fatalf("after the panic: %v %v", err, d.immediate)
	}
}

// TestFallbacksAndScores: opt-in metadata lists fallbacks after the chosen
// endpoint and every candidate's score; the header keeps one ip:port.
func TestFallbacksAndScores(t *testing.T) {
	p := startPicker(t, Options{Fallbacks: 1, EndpointScores: true}, poolDef{name: "test", addrs: []string{epA, epB}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)})
	if err != nil || d.immediate != nil {
		t.Fatalf("%v %v", err, d.immediate)
	}
	dest := d.set[HeaderDestination]
	if _, err := destination(d); err != nil {
		t.Fatalf("header %q: %v", dest, err)
	}
	lb := d.metadata.GetFields()[NamespaceLB].GetStructValue().GetFields()
	other := epA
	if dest == epA {
		other = epB
	}
	if got := lb[HeaderDestination].GetStringValue(); got != dest+","+other {
		t.Errorf("metadata destination %q, want %q", got, dest+","+other)
	}
	scores := lb[HeaderDestinationScores].GetStructValue().GetFields()
	if len(scores) != 2 || scores[dest] == nil || scores[other] == nil || scores[dest].GetNumberValue() < scores[other].GetNumberValue() {
		t.Errorf("scores %v", scores)
	}
	s.cancel()
}

// TestConcurrentStreams: many streams at once, some finishing their
// response and some cancelled mid-response, leave no in-flight count,
// running request or body budget behind.
func TestConcurrentStreams(t *testing.T) {
	budget := admission.NewBudget(1 << 30)
	p := startPicker(t, Options{Budget: budget}, poolDef{name: "test", addrs: []string{epA, epB}, models: []string{"base"}})
	client := dialPicker(t, p.addr)
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s := openStream(t, client, 5*time.Second)
			d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"hello ` + strings.Repeat("x", i*100) + `"}`)})
			if err != nil || d.immediate != nil {
				errs <- errors.Join(err, errors.New("no decision"))
				return
			}
			if i%2 == 0 {
				s.cancel()
				errs <- nil
				return
			}
			_, _, err = s.respond(200, [][2]string{{"content-type", "application/json"}}, "", [][]byte{[]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)}, false)
			s.finish()
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	recs := p.rec.waitRecords(t, n)
	closed := 0
	for _, r := range recs {
		if r.ErrorCode == exchange.ErrorClientClosed {
			closed++
		}
	}
	if closed != n/2 {
		t.Errorf("%d client-closed records, want %d", closed, n/2)
	}
	for _, ep := range p.endpoints("test") {
		if ep.InFlight() != 0 || ep.InFlightTokens() != 0 {
			t.Errorf("%s: %d in flight (%d tokens)", ep.Name(), ep.InFlight(), ep.InFlightTokens())
		}
	}
	if p.rec.runningTotal() != 0 || budget.Used() != 0 {
		t.Errorf("running %d, budget %d", p.rec.runningTotal(), budget.Used())
	}
}
