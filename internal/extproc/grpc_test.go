package extproc

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/infergate/infergate/internal/certfile"
)

// serveHealth serves a Health on a loopback listener until the test ends.
func serveHealth(t *testing.T, tlsCfg *tls.Config) (*Health, string) {
	t.Helper()
	h := NewHealth(tlsCfg)
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- h.Serve(ln) }()
	t.Cleanup(func() {
		_ = h.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h, ln.Addr().String()
}

func healthStatus(t *testing.T, c healthpb.HealthClient, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("Check(%q): %v", service, err)
	}
	return r.GetStatus()
}

func TestHealthServices(t *testing.T) {
	h, addr := serveHealth(t, nil)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := healthpb.NewHealthClient(cc)
	want := func(ready bool) {
		t.Helper()
		for _, svc := range []string{"", "inference-extension", "liveness", "readiness", "envoy.service.ext_proc.v3.ExternalProcessor"} {
			exp := healthpb.HealthCheckResponse_NOT_SERVING
			if ready || svc == "liveness" {
				exp = healthpb.HealthCheckResponse_SERVING
			}
			if got := healthStatus(t, c, svc); got != exp {
				t.Errorf("ready=%v: %q is %v, want %v", ready, svc, got, exp)
			}
		}
	}
	want(false)
	h.SetReady(true)
	want(true)
	h.SetReady(false)
	want(false)
}

// TestTLSSelfSigned: a picker on a generated certificate answers a client
// that does not verify it (as Envoy's upstream manifests do), and a
// plaintext client gets nowhere.
func TestTLSSelfSigned(t *testing.T) {
	cert, err := certfile.SelfSigned("infergate-extproc", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	g := NewGRPC(p.srv, tlsCfg)
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	defer func() { _ = g.Close(); <-served }()

	secure := dialPicker(t, ln.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}))) //nolint:gosec // the self-signed certificate is not verifiable
	s := openStream(t, secure, testTimeout)
	d, err := s.request(httpReq{method: http.MethodGet, path: "/v1/models"})
	if err != nil || d.immediate.GetStatus().GetCode() != 200 {
		t.Fatalf("over TLS: %v %v", err, d.immediate)
	}

	plain := dialPicker(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ps, err := plain.Process(ctx)
	if err == nil {
		_ = ps.Send(&extprocv3.ProcessingRequest{})
		_, err = ps.Recv()
	}
	if status.Code(err) != codes.Unavailable && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("plaintext client against TLS: %v", err)
	}
}

// TestGracefulStop: Shutdown refuses new streams, lets the one in flight
// finish its response, then returns; a stream that outlives the grace
// period is cut by Close and recorded as client-closed.
func TestGracefulStop(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	client := dialPicker(t, p.addr)
	s := openStream(t, client, testTimeout)
	d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)})
	if err != nil || d.immediate != nil {
		t.Fatalf("%v %v", err, d.immediate)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- p.grpc.Shutdown(context.Background()) }()

	// New streams are refused once the stop began.
	eventually(t, "new streams refused", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ps, err := client.Process(ctx)
		if err == nil {
			_ = ps.Send(&extprocv3.ProcessingRequest{})
			_, err = ps.Recv()
		}
		return status.Code(err) == codes.Unavailable
	})
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned %v with a stream in flight", err)
	default:
	}
	body, _, err := s.respond(200, [][2]string{{"content-type", "application/json"}}, "", [][]byte{[]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)}, false)
	if err != nil || len(body) == 0 {
		t.Fatalf("in-flight response during the stop: %v", err)
	}
	s.finish()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the last stream ended")
	}
	if r := p.rec.waitRecords(t, 1)[0]; r.ErrorCode != "" {
		t.Errorf("record %+v", r)
	}
}

func TestGracefulStopBounded(t *testing.T) {
	p := startPicker(t, Options{}, poolDef{name: "test", addrs: []string{epA}, models: []string{"base"}})
	s := openStream(t, dialPicker(t, p.addr), testTimeout)
	if d, err := s.request(httpReq{path: "/v1/completions", body: []byte(`{"model":"base","prompt":"x"}`)}); err != nil || d.immediate != nil {
		t.Fatalf("%v %v", err, d.immediate)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.grpc.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the grace period's end", err)
	}
	_ = p.grpc.Close()
	if r := p.rec.waitRecords(t, 1)[0]; r.ErrorCode != "ClientClosed" {
		t.Errorf("cut stream recorded %+v", r)
	}
	if ep := p.endpoints("test")[0]; ep.InFlight() != 0 {
		t.Errorf("%d in flight after the forced stop", ep.InFlight())
	}
}
