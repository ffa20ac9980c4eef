package extproc

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// GRPC is a gRPC server on one listener with the gateway's lifecycle: Serve,
// a bounded graceful Shutdown and Close (internal/gateway's Server).
type GRPC struct {
	srv  *grpc.Server
	once sync.Once
	done chan struct{} // closed when a graceful stop returned
}

// serverOptions are the options of every gRPC server here: TLS with tlsCfg
// (nil: plaintext), and keepalive enforcement that tolerates Envoy's pings.
func serverOptions(tlsCfg *tls.Config) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	return opts
}

// NewGRPC returns the ext_proc gRPC server serving s, over TLS with tlsCfg
// (nil: plaintext).
func NewGRPC(s *Server, tlsCfg *tls.Config) *GRPC {
	g := newGRPC(tlsCfg)
	extprocv3.RegisterExternalProcessorServer(g.srv, s)
	return g
}

func newGRPC(tlsCfg *tls.Config) *GRPC {
	return &GRPC{srv: grpc.NewServer(serverOptions(tlsCfg)...), done: make(chan struct{})}
}

// Serve accepts connections on ln until Shutdown or Close; it returns nil
// when stopped on purpose.
func (g *GRPC) Serve(ln net.Listener) error {
	err := g.srv.Serve(ln)
	if err == grpc.ErrServerStopped {
		return nil
	}
	return err
}

// Shutdown stops accepting streams (GOAWAY to the clients, which open new
// streams elsewhere) and waits until the streams in flight finish or ctx
// ends, whichever is first; it returns ctx's error in the second case, and
// the caller then calls Close.
func (g *GRPC) Shutdown(ctx context.Context) error {
	g.once.Do(func() {
		go func() {
			g.srv.GracefulStop()
			close(g.done)
		}()
	})
	select {
	case <-g.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops at once, cancelling the streams in flight.
func (g *GRPC) Close() error {
	g.srv.Stop()
	return nil
}

// HealthServices are the gRPC health service names answered: "" (the
// server as a whole), upstream's chart probe name, liveness, readiness and
// the ext_proc service itself.
var HealthServices = []string{"", "inference-extension", "liveness", "readiness", extprocv3.ExternalProcessor_ServiceDesc.ServiceName}

// Health is the gRPC health service of the ext_proc front end: liveness
// always serves; the other names serve once the gateway is ready (catalog
// synced) and stop serving when it drains.
type Health struct {
	*GRPC
	hs *health.Server
}

// NewHealth returns the health server, over TLS with tlsCfg (nil:
// plaintext), not ready yet.
func NewHealth(tlsCfg *tls.Config) *Health {
	h := &Health{GRPC: newGRPC(tlsCfg), hs: health.NewServer()}
	healthpb.RegisterHealthServer(h.srv, h.hs)
	h.SetReady(false)
	return h
}

// SetReady sets the readiness of every service but liveness.
func (h *Health) SetReady(ready bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ready {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range HealthServices {
		if name == "liveness" {
			h.hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
			continue
		}
		h.hs.SetServingStatus(name, st)
	}
}
