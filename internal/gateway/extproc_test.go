package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/proctest"
)

// TestExtProcSideBySide runs the proxy and the ext_proc picker (TLS on a
// generated certificate) in one gateway: health (plaintext) turns SERVING
// once the gateway is ready, the picker answers, and both stop on cancel.
func TestExtProcSideBySide(t *testing.T) { testExtProc(t, false) }

// TestExtProcOnly runs the gateway as a pure endpoint picker: the proxy
// listener off, ext_proc and health on.
func TestExtProcOnly(t *testing.T) { testExtProc(t, true) }

func testExtProc(t *testing.T, proxyOff bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t, ctx)
	cfg.ExtProc.Listen, cfg.ExtProc.HealthListen = "127.0.0.1:0", "127.0.0.1:0"
	if proxyOff {
		cfg.Listen = config.ListenOff
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	gw, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	if (gw.Addr() == nil) != proxyOff {
		t.Fatalf("proxy address %v with the proxy off=%v", gw.Addr(), proxyOff)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx) }()

	creds := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // a generated certificate
	// Health is plaintext even with TLS on ext_proc, as upstream's: the
	// kubelet's gRPC probe speaks no TLS.
	hc, err := grpc.NewClient(gw.ExtProcHealthAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	proctest.Eventually(t, 20*time.Second, "readiness SERVING", func() error {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		defer ccancel()
		r, err := healthpb.NewHealthClient(hc).Check(cctx, &healthpb.HealthCheckRequest{Service: "inference-extension"})
		if err != nil {
			return err
		}
		if r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return errors.New(r.GetStatus().String())
		}
		return nil
	})

	pc, err := grpc.NewClient(gw.ExtProcAddr().String(), creds)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	ps, err := extprocv3.NewExternalProcessorClient(pc).Process(sctx)
	if err != nil {
		t.Fatal(err)
	}
	hdrs := &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: ":method", RawValue: []byte("GET")}, {Key: ":path", RawValue: []byte("/v1/models")}}}
	if err := ps.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: hdrs, EndOfStream: true}}}); err != nil {
		t.Fatal(err)
	}
	m, err := ps.Recv()
	if err != nil || m.GetImmediateResponse().GetStatus().GetCode() != 200 {
		t.Fatalf("models over ext_proc: %v %v", m, err)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
	}
}
