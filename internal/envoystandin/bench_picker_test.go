package envoystandin

import (
	"net"
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
