package envoystandin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// maxPickerMessage bounds one message from the picker.
const maxPickerMessage = 64 << 20

// Envoy's default HTTP/2 flow-control windows (Http2ProtocolOptions
// initial_stream_window_size and initial_connection_window_size), which
// its gRPC client to the picker uses: static, 16 MiB per stream and 24 MiB
// per connection.
const (
	envoyStreamWindow = 16 << 20
	envoyConnWindow   = 24 << 20
)

// StandIn is a running Envoy stand-in: an HTTP listener whose requests go
// through an ext_proc picker and on to the endpoint it picks.
type StandIn struct {
	cfg      Config
	ln       net.Listener
	srv      *http.Server
	conn     *grpc.ClientConn
	client   extprocv3.ExternalProcessorClient
	upstream *http.Transport
	stats    counters
	bufs     sync.Pool // *[]byte of cfg.ChunkSize, for the body pumps

	// ctx is cancelled by Close; every exchange stops with it.
	ctx    context.Context
	cancel context.CancelFunc

	serveDone chan struct{}
	serveErr  error

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup
}

// New starts a stand-in: it listens on cfg.Listen and serves until Close or
// Shutdown. The picker connection is made lazily, as gRPC does.
func New(cfg Config) (*StandIn, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in config: %w", err)
	}
	tlsCfg, err := cfg.clientTLS()
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in picker TLS: %w", err)
	}
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	// Envoy's gRPC client sets no 4 MiB message cap; a picker may stream a
	// large body back in one message. Its HTTP/2 flow-control windows are
	// static (Http2ProtocolOptions' defaults): no BDP pings, which
	// grpc-go's dynamic windows would send about once per message
	// received, each making the picker write an acknowledgement.
	conn, err := grpc.NewClient(cfg.ExtProcAddr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxPickerMessage)),
		grpc.WithInitialWindowSize(envoyStreamWindow), grpc.WithInitialConnWindowSize(envoyConnWindow))
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in picker connection: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("envoy stand-in listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &StandIn{
		cfg:       cfg,
		ln:        ln,
		conn:      conn,
		client:    extprocv3.NewExternalProcessorClient(conn),
		upstream:  newUpstreamTransport(cfg.ConnectTimeout),
		ctx:       ctx,
		cancel:    cancel,
		serveDone: make(chan struct{}),
	}
	s.bufs.New = func() any {
		b := make([]byte, cfg.ChunkSize)
		return &b
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	return s, nil
}

// newUpstreamTransport is the ORIGINAL_DST cluster's connection pool:
// HTTP/1.1 with keep-alive, no proxy, no compression negotiation.
func newUpstreamTransport(connectTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// Addr returns the listener's host:port.
func (s *StandIn) Addr() string { return s.ln.Addr().String() }

// URL returns the listener's base URL, http://host:port.
func (s *StandIn) URL() string { return "http://" + s.Addr() }

// Stats returns running totals.
func (s *StandIn) Stats() Stats { return s.stats.snapshot() }

// ServeHTTP runs one request through the picker and upstream.
func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.Header().Set("Connection", "close")
		http.Error(w, "envoy stand-in is shutting down", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()
	e := newExchange(s, w, r)
	e.run()
	if e.abort {
		// Envoy resets the downstream stream; net/http closes the
		// connection without logging on this panic.
		panic(http.ErrAbortHandler)
	}
}

// Shutdown stops accepting requests and waits for those in flight to finish
// or for ctx to end, then stops everything (as Close).
func (s *StandIn) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	return errors.Join(err, s.Close())
}

// Close stops the listener, resets every request in flight, waits for their
// goroutines and closes the picker connection and the upstream pool.
func (s *StandIn) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		<-s.serveDone
		return nil
	}
	s.cancel()
	err := s.srv.Close()
	<-s.serveDone
	s.handlers.Wait()
	s.upstream.CloseIdleConnections()
	return errors.Join(err, s.conn.Close(), s.serveErr)
}
