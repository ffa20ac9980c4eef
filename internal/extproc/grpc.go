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
	"google.golang.org/grpc/keepalive"
)

// GRPC is a gRPC server on one listener with the gateway's lifecycle: Serve,
// a bounded graceful Shutdown and Close (internal/gateway's Server).
type GRPC struct {
	srv  *grpc.Server
	once sync.Once
	done chan struct{} // closed when a graceful stop returned
}

// streamWorkers is how many goroutines the gRPC server keeps to run
// streams on. A stream handed to an idle worker runs on a goroutine whose
// stack has already grown to what a decision needs (protobuf's marshalling
// of the envoy.lb metadata is deep): without workers every stream starts a
// goroutine with a small stack that is copied as it grows (measured: 18 %
// of the decision's CPU in the gateway's profile at 500 req/s, 1 KB). A
// stream that finds every worker busy gets its own goroutine, as without
// workers; idle workers cost their stacks (tens of KiB each). The garbage
// collector halves the stacks of parked workers, so each stream also grows
// its stack back in one step at its start ([reserveStack]).
const streamWorkers = 64

// serverOptions are the options of every gRPC server here: TLS with tlsCfg
// (nil: plaintext), and keepalive enforcement that tolerates Envoy's pings.
func serverOptions(tlsCfg *tls.Config, extra ...grpc.ServerOption) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	opts = append(opts, extra...)
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	return opts
}

// flowWindow is the ext_proc server's static HTTP/2 flow-control window,
// per stream and per connection: the largest window gRPC's BDP estimation
// grows to (so a peer can have no more unread bytes in flight than before),
// without that estimation. With dynamic windows gRPC answers a DATA frame
// with a BDP ping whenever the previous one was acknowledged, which on an
// ext_proc stream (small messages, each answered) is about one ping per
// message: the data plane writes an extra acknowledgement and both
// processes wake for it on every body chunk (measured: a third of the
// picker's writes started with a ping acknowledgement). Envoy's own
// windows are static too.
const flowWindow = 16 << 20

// NewGRPC returns the ext_proc gRPC server serving s, over TLS with tlsCfg
// (nil: plaintext).
func NewGRPC(s *Server, tlsCfg *tls.Config) *GRPC {
	g := newGRPC(tlsCfg, grpc.NumStreamWorkers(streamWorkers),
		grpc.InitialWindowSize(flowWindow), grpc.InitialConnWindowSize(flowWindow))
	extprocv3.RegisterExternalProcessorServer(g.srv, s)
	return g
}

func newGRPC(tlsCfg *tls.Config, extra ...grpc.ServerOption) *GRPC {
	return &GRPC{srv: grpc.NewServer(serverOptions(tlsCfg, extra...)...), done: make(chan struct{})}
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
