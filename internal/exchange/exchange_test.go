package exchange

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/admission"
	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/pool"
	"github.com/infergate/infergate/internal/router"
	"github.com/infergate/infergate/internal/scheduler"
	"github.com/infergate/infergate/internal/testclock"
)

// recorder is an Observer (and GapObserver) that keeps what it is told.
type recorder struct {
	records []Record
	running map[string]int
	gaps    []time.Duration
}

func (r *recorder) StreamGaps(Running) func(time.Duration) {
	return func(d time.Duration) { r.gaps = append(r.gaps, d) }
}

func (r *recorder) ObserveRequest(rec Record) { r.records = append(r.records, rec) }
func (r *recorder) RunningAdd(run Running, delta int) {
	if r.running == nil {
		r.running = map[string]int{}
	}
	r.running[run.Model] += delta
}

// fixture is a tracker over a real router with endpoints ep-0 and ep-1
// serving "base".
type fixture struct {
	t     *Tracker
	obs   *recorder
	clock *testclock.Clock
	rt    *router.Router
	eps   []*pool.Endpoint
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := pool.NewStore("test")
	snap := st.Sync([]pool.Spec{{Name: "ep-0", Address: "127.0.0.1:1"}, {Name: "ep-1", Address: "127.0.0.1:2"}})
	for i, ep := range snap.Endpoints() {
		ep.SetMetrics(&pool.Metrics{WaitingQueue: i, ScrapedAt: time.Now().Add(time.Hour)})
		ep.SetModels([]string{"base"})
	}
	f := &fixture{obs: &recorder{}, clock: testclock.New(time.Unix(1000, 0)), logs: &bytes.Buffer{}, eps: snap.Endpoints()}
	f.rt = router.New(router.Options{
		Catalog:   router.Catalog{Pools: []router.Pool{{Store: st, Scheduler: scheduler.New(scheduler.DefaultConfig(), nil)}}},
		Admission: admission.New(),
	})
	f.t = New(Options{Observer: f.obs, Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Now: f.clock.Now})
	return f
}

// begin starts, parses and routes body; it returns the body to send
// upstream, joined.
func (f *fixture) begin(t *testing.T, body string) (*Exchange, *router.Decision, []byte) {
	t.Helper()
	x := f.t.Start("req-1")
	req, err := openai.ParseRequest([]byte(body), openai.KindChatCompletions)
	if err != nil {
		t.Fatal(err)
	}
	x.Parsed(req)
	dec, err := f.rt.Route(router.Input{Model: req.Model, Prompt: req.Prompt, MaxTokens: req.MaxTokens})
	if err != nil {
		t.Fatal(err)
	}
	out := x.Begin(dec, []byte(body))
	return x, dec, bytes.Join(out.Parts(), nil)
}

const chat = `{"model":"base","messages":[{"role":"user","content":"hi"}]}`
const streamChat = `{"model":"base","stream":true,"messages":[{"role":"user","content":"hi"}]}`

func TestFailBeforeForwarding(t *testing.T) {
	tests := []struct {
		err         error
		wantStatus  int
		wantCode    string
		wantDropped string
	}{
		{ErrSaturated, 503, ErrorResourceExhausted, DroppedSaturated},
		{admission.ErrShed, 429, ErrorResourceExhausted, DroppedSaturated},
		{scheduler.ErrNoEndpoint, 503, ErrorServiceUnavailable, DroppedNoEndpoints},
		{&admission.Rejection{Err: admission.ErrQueueFull, RetryAfter: time.Second}, 429, ErrorResourceExhausted, DroppedSaturated},
		{&admission.Rejection{Err: admission.ErrTTLExpired, RetryAfter: time.Second}, 429, ErrorResourceExhausted, DroppedTTLExpired},
		{&admission.Rejection{Err: admission.ErrNoEndpoints, RetryAfter: time.Second}, 503, ErrorServiceUnavailable, DroppedNoEndpoints},
		{&admission.Rejection{Err: admission.ErrShuttingDown, RetryAfter: time.Second}, 503, ErrorServiceUnavailable, DroppedShuttingDown},
		{ErrBodyTooLarge, 413, ErrorBadRequest, ""},
		{ErrBodyTimeout, 408, ErrorTimeout, ""},
		{ErrReadBody, 400, ErrorBadRequest, ""},
		{fmt.Errorf("route: %w", router.ErrModelNotFound), 404, ErrorNotFound, ""},
		{openai.ErrBadRequest("bad", ""), 400, ErrorBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			f := newFixture(t)
			x := f.t.Start("req-1")
			x.Parsed(openai.Request{Model: "nope"})
			e, dropped := x.Fail(tc.err)
			if e.Status != tc.wantStatus || dropped != tc.wantDropped {
				t.Errorf("Fail = %d, %q; want %d, %q", e.Status, dropped, tc.wantStatus, tc.wantDropped)
			}
			x.End(Outcome{})
			want := []Record{{Model: UnknownModelName, ErrorCode: tc.wantCode}}
			if diff := cmp.Diff(want, f.obs.records); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if len(f.obs.running) != 0 {
				t.Errorf("a request never forwarded counted as running: %v", f.obs.running)
			}
		})
	}
}

// TestEndErrorCode checks the error code of a forwarded request by how its
// response and the transport ended.
func TestEndErrorCode(t *testing.T) {
	tests := []struct {
		name    string
		status  int   // upstream status, 0 for none
		bodyErr error // how the body ended, nil when it did not start
		outcome Outcome
		want    string
		wantSt  int
	}{
		{name: "success", status: 200, bodyErr: io.EOF, want: "", wantSt: 200},
		{name: "upstream 500", status: 500, bodyErr: io.EOF, want: ErrorModelServerError, wantSt: 500},
		{name: "idle timeout", status: 200, bodyErr: errors.New("canceled"), outcome: Outcome{TimedOut: true}, want: ErrorTimeout, wantSt: 200},
		{name: "client stopped taking the body", status: 200, bodyErr: ErrClosedEarly, want: ErrorClientClosed, wantSt: 200},
		{name: "client gone", status: 200, bodyErr: errors.New("canceled"), outcome: Outcome{ClientGone: true}, want: ErrorClientClosed, wantSt: 200},
		{name: "replica broke off", status: 200, bodyErr: io.ErrUnexpectedEOF, want: ErrorBadGateway, wantSt: 200},
		{name: "client stalled", status: 200, bodyErr: ErrClosedEarly, outcome: Outcome{Stalled: true}, want: ErrorClientClosed, wantSt: StatusClientClosed},
		{name: "aborted before a response", want: ErrorClientClosed, wantSt: StatusClientClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			x, dec, _ := f.begin(t, chat)
			x.Attempt(dec.Endpoint)
			if tc.status != 0 {
				x.Served(dec.Endpoint)
				x.ResponseStarted(tc.status, false)
				x.Chunk(nil, []byte(`{"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`))
				x.BodyEnd(tc.bodyErr)
			}
			x.End(tc.outcome)
			if len(f.obs.records) != 1 || f.obs.records[0].ErrorCode != tc.want {
				t.Fatalf("records %+v, want one with error code %q", f.obs.records, tc.want)
			}
			if x.status != tc.wantSt {
				t.Errorf("logged status %d, want %d", x.status, tc.wantSt)
			}
			if f.obs.running["base"] != 0 || dec.Endpoint.InFlight() != 0 {
				t.Errorf("after End: running %v, endpoint in flight %d; want both 0", f.obs.running, dec.Endpoint.InFlight())
			}
		})
	}
}

// TestStreamObservation drives a stream the client did not ask usage for:
// the gateway asks upstream, removes the usage chunk, and records TTFT,
// TPOT and usage on the injected clock.
func TestStreamObservation(t *testing.T) {
	f := newFixture(t)
	x, dec, body := f.begin(t, streamChat)
	if !bytes.Contains(body, []byte(`"include_usage":true`)) {
		t.Fatalf("upstream body does not ask for usage: %s", body)
	}
	x.Attempt(dec.Endpoint)
	x.Served(dec.Endpoint)
	f.clock.Advance(100 * time.Millisecond)
	if !x.ResponseStarted(200, true) {
		t.Error("ResponseStarted did not ask to re-frame a stream whose usage chunk is removed")
	}
	var client []byte
	for i := range 3 {
		client = x.Chunk(client, fmt.Appendf(nil, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d\"}}]}\n\n", i))
		f.clock.Advance(10 * time.Millisecond)
	}
	client = x.Chunk(client, []byte("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\ndata: [DONE]\n\n"))
	client = x.Flush(client)
	x.BodyEnd(io.EOF)
	x.End(Outcome{})

	if strings.Contains(string(client), `"usage"`) || strings.Count(string(client), `"content"`) != 3 || !strings.HasSuffix(string(client), "data: [DONE]\n\n") {
		t.Errorf("client got:\n%s", client)
	}
	want := Record{
		Model: "base", TargetModel: "base", RequestBytes: len(body), ResponseBytes: len(client),
		InputTokens: 5, OutputTokens: 3,
		Duration: 130 * time.Millisecond, TTFT: 100 * time.Millisecond, TPOT: 10 * time.Millisecond, Streaming: true,
	}
	if diff := cmp.Diff([]time.Duration{10 * time.Millisecond, 10 * time.Millisecond}, f.obs.gaps); diff != "" {
		t.Errorf("gaps between token chunks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Record{want}, f.obs.records); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// TestRepick checks the in-flight counters across a retry: the failed
// endpoint is released, the new one held, and with nobody left the last one
// is kept.
func TestRepick(t *testing.T) {
	f := newFixture(t)
	x, dec, _ := f.begin(t, chat)
	first := dec.Endpoint
	x.Attempt(first)
	next, err := x.Repick(f.rt)
	if err != nil {
		t.Fatal(err)
	}
	if next == first || first.InFlight() != 0 {
		t.Fatalf("re-picked %s after %s (in flight %d)", next.Name(), first.Name(), first.InFlight())
	}
	x.Attempt(next)
	if next.InFlight() != 1 || x.Attempts() != 2 {
		t.Fatalf("after the second attempt: in flight %d, attempts %d", next.InFlight(), x.Attempts())
	}
	if _, err := x.Repick(f.rt); err == nil {
		t.Fatal("a third endpoint was found among two")
	}
	if dec.Endpoint != next || next.InFlight() != 1 {
		t.Fatalf("with nobody left: endpoint %s in flight %d, want %s kept and held", dec.Endpoint.Name(), next.InFlight(), next.Name())
	}
	x.End(Outcome{})
	if next.InFlight() != 0 {
		t.Errorf("End left %d in flight", next.InFlight())
	}
	if !strings.Contains(f.logs.String(), "attempts=2") || !strings.Contains(f.logs.String(), "endpoint="+next.Name()) {
		t.Errorf("access log:\n%s", f.logs)
	}
}

func TestAccessLogClipsClientStrings(t *testing.T) {
	f := newFixture(t)
	x := f.t.Start("req-1")
	long := strings.Repeat("é", 300)
	x.Parsed(openai.Request{Model: long})
	x.Fail(router.ErrModelNotFound)
	x.End(Outcome{})
	l := f.logs.String()
	if strings.Contains(l, long) || !strings.Contains(l, "…") || !strings.Contains(l, "status=404") {
		t.Errorf("access log did not clip the model name:\n%s", l)
	}
}

func TestModels(t *testing.T) {
	f := newFixture(t)
	got := f.t.Models([]string{"a", "b"})
	want := openai.ModelList{Object: "list", Data: []openai.Model{
		{ID: "a", Object: "model", Created: 1000, OwnedBy: "infergate"},
		{ID: "b", Object: "model", Created: 1000, OwnedBy: "infergate"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}
