package extproc

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/infergate/infergate/internal/telemetry"
)

// memStream is one ext_proc stream without gRPC: Recv replays msgs, Send
// keeps count of the answers (and the first one). It measures the picker's
// own work per request, apart from gRPC's transport.
type memStream struct {
	ctx  context.Context
	msgs []*extprocv3.ProcessingRequest
	next int
	sent int
	// first is the first answer (the decision, for an inference request).
	first *extprocv3.ProcessingResponse
	// keep keeps every answer in all.
	keep bool
	all  []*extprocv3.ProcessingResponse
}

func (m *memStream) reset(msgs []*extprocv3.ProcessingRequest) {
	m.msgs, m.next, m.sent, m.first, m.all = msgs, 0, 0, nil, nil
}

func (m *memStream) Recv() (*extprocv3.ProcessingRequest, error) {
	if m.next == len(m.msgs) {
		return nil, io.EOF
	}
	m.next++
	return m.msgs[m.next-1], nil
}

func (m *memStream) Send(r *extprocv3.ProcessingResponse) error {
	if m.sent == 0 {
		m.first = r
	}
	if m.keep {
		m.all = append(m.all, r)
	}
	m.sent++
	return nil
}

func (m *memStream) Context() context.Context     { return m.ctx }
func (m *memStream) SetHeader(metadata.MD) error  { return nil }
func (m *memStream) SendHeader(metadata.MD) error { return nil }
func (m *memStream) SetTrailer(metadata.MD)       {}
func (m *memStream) SendMsg(any) error            { return nil }
func (m *memStream) RecvMsg(any) error            { return nil }

var _ extprocv3.ExternalProcessor_ProcessServer = (*memStream)(nil)

// envoyHeaders is a request header block as Envoy sends it for a chat
// completion (raw_value, lower-case names).
func envoyHeaders(kv ...string) *corev3.HeaderMap {
	hs := make([]*corev3.HeaderValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return &corev3.HeaderMap{Headers: hs}
}

// chatExchange is the message sequence of one streamed chat completion of
// bodyBytes bytes as Envoy sends it in FULL_DUPLEX_STREAMED mode: request
// headers, the body in one end_of_stream chunk, then the response headers
// (served metadata from served) and an SSE body ending the stream.
func chatExchange(bodyBytes int, served string) []*extprocv3.ProcessingRequest {
	body := chatBody(simModel, max(bodyBytes-100, 1), true)
	sse := []byte("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":200,\"completion_tokens\":8,\"total_tokens\":208}}\n\n" +
		"data: [DONE]\n\n")
	lb, _ := structpb.NewStruct(map[string]any{HeaderDestinationServed: served})
	respMD := &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{NamespaceLB: lb}}
	return []*extprocv3.ProcessingRequest{
		{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: envoyHeaders(
			":authority", "gateway.example", ":path", "/v1/chat/completions", ":method", "POST", ":scheme", "http",
			"content-type", "application/json", "content-length", strconv.Itoa(len(body)), "user-agent", "Go-http-client/1.1",
			"x-forwarded-proto", "http", "x-request-id", "4e1c5b2a-8f3d-4b7e-9a61-0c2d3e4f5a6b",
		)}}},
		{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: body, EndOfStream: true}}},
		{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: envoyHeaders(
			":status", "200", "content-type", "text/event-stream", "date", "Mon, 07 Dec 2026 15:00:00 GMT",
		)}}, MetadataContext: respMD},
		{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: sse, EndOfStream: true}}, MetadataContext: respMD},
	}
}

// newBenchServer is a picker over one pool of four scraped endpoints
// without a gRPC listener.
func newBenchServer(tb testing.TB, o Options) *picker {
	tb.Helper()
	return newPicker(tb, o, poolDef{name: "test", addrs: []string{"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000", "10.0.0.4:8000"}, models: []string{simModel}})
}

// BenchmarkDecision measures the picker's own work for one streamed chat
// completion with a 1 KB or 220 KB body, gRPC's transport left out: request
// headers, the body (parse, admission, flow control, the pick, the decision
// and the body sent back), the response headers and an SSE body. The body
// comes in one message, or in Envoy's 16 KiB chunks for 220KB-chunks
// (gathered in a buffer first). Compare allocs/op and B/op between changes
// rather than ns/op on a shared machine.
// Run: go test -run '^$' -bench Decision -benchmem ./internal/extproc
func BenchmarkDecision(b *testing.B) {
	for _, tc := range []struct {
		name   string
		size   int
		chunks bool
	}{{"1KB", 1 << 10, false}, {"220KB", 220_000, false}, {"220KB-chunks", 220_000, true}} {
		b.Run(tc.name, func(b *testing.B) {
			p := newBenchServer(b, Options{Metrics: &recorder{drop: true}, Decisions: telemetry.NewMetrics(nil, telemetry.Options{})})
			msgs := chatExchange(tc.size, "10.0.0.1:8000")
			if tc.chunks {
				msgs = envoyChunks(msgs)
			}
			ms := &memStream{ctx: context.Background()}
			b.ReportAllocs()
			for b.Loop() {
				ms.reset(msgs)
				if err := p.srv.Process(ms); err != nil {
					b.Fatal(err)
				}
				if ms.first.GetRequestHeaders() == nil {
					b.Fatalf("first answer %v, want the decision", ms.first)
				}
			}
		})
	}
}

// BenchmarkDecisionGRPC measures one streamed chat completion with a 1 KB
// body through the picker over a real gRPC connection on loopback, as
// Envoy drives it (one stream per request on a shared connection): the
// decision latency (last request message sent → header response received,
// the stand-in's definition) is reported as decision-µs (mean),
// decision-p50-µs and decision-p99-µs; the picker's own decision latency
// (infergate_extproc_decision_duration_seconds' definition: last request
// message received → header response handed to gRPC) as picker-p50-µs and
// picker-p99-µs; ns/op is the whole exchange. Client and picker share
// the process, so CPU figures include both.
// Run: go test -run '^$' -bench DecisionGRPC -benchmem ./internal/extproc
func BenchmarkDecisionGRPC(b *testing.B) {
	for _, tc := range []struct {
		name string
		size int
	}{{"1KB", 1 << 10}, {"220KB", 220_000}} {
		b.Run(tc.name, func(b *testing.B) { benchmarkDecisionGRPC(b, tc.size) })
	}
}

// decisionSamples is a DecisionObserver that keeps every decision's
// latency, for percentiles (a benchmark's: unlike the gateway's, it may
// allocate).
type decisionSamples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *decisionSamples) ObserveDecision(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

// report reports the kept latencies' p50 and p99 as <prefix>-p50-µs and
// <prefix>-p99-µs.
func (s *decisionSamples) report(b *testing.B, prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return
	}
	slices.Sort(s.d)
	b.ReportMetric(float64(s.d[len(s.d)/2].Nanoseconds())/1e3, prefix+"-p50-µs")
	b.ReportMetric(float64(s.d[len(s.d)*99/100].Nanoseconds())/1e3, prefix+"-p99-µs")
}

func benchmarkDecisionGRPC(b *testing.B, size int) {
	picked := &decisionSamples{}
	p := startPicker(b, Options{Metrics: &recorder{drop: true}, Decisions: picked},
		poolDef{name: "test", addrs: []string{"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000", "10.0.0.4:8000"}, models: []string{simModel}})
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	c := extprocv3.NewExternalProcessorClient(cc)
	msgs := envoyChunks(chatExchange(size, "10.0.0.1:8000"))
	var lat []time.Duration
	b.ReportAllocs()
	cpu0 := processCPU(b)
	for b.Loop() {
		d, err := grpcExchange(c, msgs)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, d)
	}
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(len(lat)), "cpu-µs/op")
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	slices.Sort(lat)
	b.ReportMetric(float64(sum.Microseconds())/float64(len(lat)), "decision-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "decision-p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "decision-p99-µs")
	picked.report(b, "picker")
}

// grpcExchange runs msgs (chatExchange's) through one stream to c and
// returns the decision latency.
func grpcExchange(c extprocv3.ExternalProcessorClient, msgs []*extprocv3.ProcessingRequest) (time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ps, err := c.Process(ctx)
	if err != nil {
		return 0, err
	}
	req := len(msgs) - 2 // headers and body chunks
	for _, m := range msgs[:req] {
		if err := ps.Send(m); err != nil {
			return 0, err
		}
	}
	sent := time.Now()
	m, err := ps.Recv()
	if err != nil {
		return 0, err
	}
	d := time.Since(sent)
	if m.GetRequestHeaders() == nil {
		return 0, fmt.Errorf("first answer %v, want the decision", m)
	}
	for {
		if m, err = ps.Recv(); err != nil || m.GetRequestBody() == nil {
			return 0, fmt.Errorf("body answer %v, %v", m, err)
		}
		if m.GetRequestBody().GetResponse().GetBodyMutation().GetStreamedResponse().GetEndOfStream() {
			break
		}
	}
	for _, m := range msgs[req:] {
		if err := ps.Send(m); err != nil {
			return 0, err
		}
		if _, err := ps.Recv(); err != nil {
			return 0, err
		}
	}
	if err := ps.CloseSend(); err != nil {
		return 0, err
	}
	if _, err := ps.Recv(); err != io.EOF {
		return 0, fmt.Errorf("end of stream: %v", err)
	}
	return d, nil
}

// processCPU is this process's CPU time so far (user + system), steadier
// than wall time on a shared machine.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// envoyChunks splits the request body message of a chatExchange sequence
// into Envoy's 16 KiB chunks.
func envoyChunks(msgs []*extprocv3.ProcessingRequest) []*extprocv3.ProcessingRequest {
	body := msgs[1].GetRequestBody().GetBody()
	out := []*extprocv3.ProcessingRequest{msgs[0]}
	for i := 0; i < len(body); i += envoyChunk {
		end := min(i+envoyChunk, len(body))
		out = append(out, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: body[i:end], EndOfStream: end == len(body)},
		}})
	}
	return append(out, msgs[2:]...)
}
