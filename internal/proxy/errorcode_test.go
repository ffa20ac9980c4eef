package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/telemetry"
)

// streamOneEvent starts an event stream with one token event and flushes it.
func streamOneEvent(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
	w.(http.Flusher).Flush()
}

// lastEvent returns the last complete SSE event of s, "" when s does not
// end with one.
func lastEvent(s string) string {
	if !strings.HasSuffix(s, "\n\n") {
		return ""
	}
	return s[strings.LastIndex(s[:len(s)-2], "\n\n")+2:]
}

// errorCounts gathers reg and returns inference_objective_request_error_total
// by error_code, and the sum of inference_objective_request_total.
func errorCounts(t *testing.T, reg prometheus.Gatherer) (map[string]float64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	codes, total := map[string]float64{}, 0.0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "inference_objective_request_error_total":
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "error_code" {
						codes[lp.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		case "inference_objective_request_total":
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return codes, total
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestErrorCodes drives each upstream and client failure through a real
// gateway handler on loopback, against real loopback upstreams, and checks
// the error_code the request is counted under in a real registry.
func TestErrorCodes(t *testing.T) {
	const (
		complete = `{"model":"base","prompt":"x"}`
		stream   = `{"model":"base","stream":true,"messages":[{"role":"user","content":"x"}]}`
	)
	// client is what the client does: it returns the status it saw (0 for
	// none) once it is done with the request.
	type client func(t *testing.T, url string, started <-chan struct{}) int
	post := func(body string) client {
		return func(t *testing.T, url string, _ <-chan struct{}) int {
			resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			_, _ = io.ReadAll(resp.Body)
			return resp.StatusCode
		}
	}
	readStream := func(t *testing.T, url string, _ <-chan struct{}) int {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Errorf("the stream was aborted (%v); want it ended with an error event", err)
		}
		if ev := lastEvent(string(got)); !strings.HasPrefix(ev, `data: {"error":{`) {
			t.Errorf("the stream does not end with an error event: %q", got)
		}
		return resp.StatusCode
	}
	// leaveBeforeHeaders cancels the request once the upstream has it.
	leaveBeforeHeaders := func(t *testing.T, url string, started <-chan struct{}) int {
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", strings.NewReader(complete))
		go func() { <-started; cancel() }()
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("the request finished with %d; want it cancelled", resp.StatusCode)
		}
		return 0
	}
	// leaveMidStream reads the first event, then hangs up.
	leaveMidStream := func(t *testing.T, url string, _ <-chan struct{}) int {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.Contains(line, `"content":"a"`) {
			t.Fatalf("first event %q, %v", line, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	tests := []struct {
		name string
		opts Options
		// upstream serves the request; nil means no upstream listens.
		// started is closed when it has the request.
		upstream   func(w http.ResponseWriter, r *http.Request, started chan<- struct{})
		client     client
		wantStatus int
		wantCode   string
	}{
		{
			name: "no response headers in time",
			opts: Options{FirstByteTimeout: 50 * time.Millisecond},
			upstream: func(_ http.ResponseWriter, r *http.Request, _ chan<- struct{}) {
				<-r.Context().Done()
			},
			client: post(complete), wantStatus: http.StatusGatewayTimeout, wantCode: telemetry.ErrorTimeout,
		},
		{
			name: "stream stalls past the idle timeout",
			opts: Options{IdleTimeout: 50 * time.Millisecond},
			upstream: func(w http.ResponseWriter, r *http.Request, _ chan<- struct{}) {
				streamOneEvent(w)
				<-r.Context().Done()
			},
			client: readStream, wantStatus: http.StatusOK, wantCode: telemetry.ErrorTimeout,
		},
		{
			name: "client leaves before the response",
			upstream: func(_ http.ResponseWriter, r *http.Request, started chan<- struct{}) {
				close(started)
				<-r.Context().Done()
			},
			client: leaveBeforeHeaders, wantCode: telemetry.ErrorClientClosed,
		},
		{
			name: "client leaves mid-stream",
			upstream: func(w http.ResponseWriter, r *http.Request, _ chan<- struct{}) {
				streamOneEvent(w)
				<-r.Context().Done()
			},
			client: leaveMidStream, wantStatus: http.StatusOK, wantCode: telemetry.ErrorClientClosed,
		},
		{
			name:   "upstream refuses the connection",
			client: post(complete), wantStatus: http.StatusBadGateway, wantCode: telemetry.ErrorBadGateway,
		},
		{
			name: "upstream hangs up before the response",
			upstream: func(w http.ResponseWriter, _ *http.Request, _ chan<- struct{}) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
			},
			client: post(complete), wantStatus: http.StatusBadGateway, wantCode: telemetry.ErrorBadGateway,
		},
		{
			name: "upstream breaks off mid-stream",
			upstream: func(w http.ResponseWriter, _ *http.Request, _ chan<- struct{}) {
				streamOneEvent(w)
				panic(http.ErrAbortHandler) // drops the connection without ending the body
			},
			client: readStream, wantStatus: http.StatusOK, wantCode: telemetry.ErrorBadGateway,
		},
		{
			name: "upstream answers 500",
			upstream: func(w http.ResponseWriter, _ *http.Request, _ chan<- struct{}) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)
			},
			client: post(complete), wantStatus: http.StatusInternalServerError, wantCode: telemetry.ErrorModelServerError,
		},
		{
			name: "upstream answers 400",
			upstream: func(w http.ResponseWriter, _ *http.Request, _ chan<- struct{}) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`)
			},
			client: post(complete), wantStatus: http.StatusBadRequest, wantCode: telemetry.ErrorModelServerError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			addr := closedAddr(t)
			if tc.upstream != nil {
				be := newBackend(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { tc.upstream(w, r, started) })
				addr = be.addr()
			}
			reg := prometheus.NewRegistry()
			opts := tc.opts
			opts.Metrics = telemetry.NewMetrics(reg, telemetry.Options{})
			h := setup(t, opts, []string{addr}, []int{0})
			handled := make(chan struct{}, 1)
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() { handled <- struct{}{} }()
				h.ServeHTTP(w, r)
			}))
			defer gw.Close()

			if status := tc.client(t, gw.URL, started); status != tc.wantStatus {
				t.Errorf("client saw status %d, want %d", status, tc.wantStatus)
			}
			select { // the handler records the request before it returns
			case <-handled:
			case <-time.After(10 * time.Second):
				t.Fatal("the gateway handler did not return")
			}
			codes, total := errorCounts(t, reg)
			if diff := cmp.Diff(map[string]float64{tc.wantCode: 1}, codes); diff != "" {
				t.Errorf("request_error_total by error_code (-want +got):\n%s", diff)
			}
			if total != 1 {
				t.Errorf("request_total = %v, want 1", total)
			}
		})
	}
}
