package envoystandin

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
)

// benchPicker serves a minimal picker for BenchmarkStandIn, recording
// nothing: it answers like echoPicker, sending everything to dest.
func benchPicker(b *testing.B, dest string) (string, *grpc.Server) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(srv, &benchProcessor{script: echoPicker(echoOpts{dest: func(map[string]string) string { return dest }})})
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), srv
}

// benchProcessor runs a script per stream without keeping records.
type benchProcessor struct {
	extprocv3.UnimplementedExternalProcessorServer
	script pickerScript
}

// Process runs the script, then waits for the stand-in to close the stream.
func (p *benchProcessor) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	ps := &pickerStream{srv: srv}
	if err := p.script(ps); err != nil {
		return nil
	}
	for {
		if _, err := srv.Recv(); err != nil {
			return nil
		}
	}
}

// BenchmarkStandInStream streams a 96-chunk SSE response (each chunk
// flushed by the upstream, as a model server streams tokens) through the
// stand-in and the echo picker: the per-chunk cost of the response path.
func BenchmarkStandInStream(b *testing.B) {
	chunk := []byte(`data: {"choices":[{"delta":{"content":"word "}}]}` + "\n\n")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for range 96 {
			_, _ = w.Write(chunk)
			_ = rc.Flush()
		}
	}))
	defer up.Close()
	ln, picker := benchPicker(b, strings.TrimPrefix(up.URL, "http://"))
	defer picker.Stop()
	s, err := New(Config{ExtProcAddr: ln, Plaintext: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := bytes.Repeat([]byte("x"), 12<<10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(s.URL()+"/v1/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 || n != int64(96*len(chunk)) {
				b.Errorf("status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(s.Stats().ResponseChunks)/float64(b.N), "chunks/op")
}
