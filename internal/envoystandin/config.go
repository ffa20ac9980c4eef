package envoystandin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultChunkSize is the size of the body chunks sent to the picker.
	DefaultChunkSize = 16 << 10
	// DefaultMessageTimeout is Envoy's default ext_proc message_timeout.
	DefaultMessageTimeout = 200 * time.Millisecond
	// DefaultConnectTimeout is Envoy's default cluster connect_timeout.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultListen is a loopback address on a free port.
	DefaultListen = "127.0.0.1:0"
)

// Config configures a StandIn. Only ExtProcAddr is required.
type Config struct {
	// Listen is the HTTP listener address (default DefaultListen).
	Listen string
	// ExtProcAddr is the picker's gRPC address, host:port.
	ExtProcAddr string
	// Plaintext talks to the picker without TLS.
	Plaintext bool
	// TLS is the client TLS configuration for the picker; when nil (and not
	// Plaintext) one is built from CAFile, InsecureSkipVerify and ServerName.
	TLS *tls.Config
	// CAFile is a PEM bundle of CAs trusted for the picker's certificate;
	// empty means the system roots.
	CAFile string
	// InsecureSkipVerify accepts any certificate from the picker (a
	// self-signed one, as upstream's picker generates).
	InsecureSkipVerify bool
	// ServerName overrides the name checked in the picker's certificate.
	ServerName string
	// ChunkSize is the size of the request and response body chunks sent to
	// the picker (default DefaultChunkSize).
	ChunkSize int
	// MessageTimeout bounds how long the stand-in waits for the picker while
	// it awaits an answer, measured from the last message sent or received
	// (default DefaultMessageTimeout; negative disables it, as real Envoy
	// does in FULL_DUPLEX_STREAMED mode; see the package doc).
	MessageTimeout time.Duration
	// ConnectTimeout bounds upstream connection setup (default
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// AllowMetadataMismatch forwards to the header's destination even when
	// the picker's envoy.lb metadata names another one (Envoy's behaviour).
	AllowMetadataMismatch bool
	// SubsetHint returns the subset hint for a request and whether there is
	// one; nil means "read SubsetHeader". An empty, present hint is sent as
	// an empty list.
	SubsetHint func(*http.Request) (endpoints []string, ok bool)
	// EndWithTrailers, when set and true for a request with a body, ends
	// that request with a RequestTrailers message (empty unless the client
	// sent trailers) instead of an end_of_stream body chunk, as Envoy
	// versions that add empty trailers under request_trailer_mode SEND do.
	EndWithTrailers func(*http.Request) bool
	// OnResult, when set, is called once per finished request, from the
	// request's goroutine; it must be safe for concurrent use and quick.
	OnResult func(Result)
	// Logger receives the stand-in's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock used for the reported timings; nil means time.Now.
	// Timers (the message timeout) always use real time.
	Now func() time.Time
}

// withDefaults returns c with zero fields defaulted and checks it.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.MessageTimeout == 0 {
		c.MessageTimeout = DefaultMessageTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var errs []error
	if c.ExtProcAddr == "" {
		errs = append(errs, errors.New("extProcAddr: required"))
	}
	if c.ChunkSize < 1 || c.ChunkSize > 4<<20 {
		errs = append(errs, fmt.Errorf("chunkSize: %d outside 1..4194304", c.ChunkSize))
	}
	if c.Plaintext && (c.TLS != nil || c.CAFile != "" || c.InsecureSkipVerify) {
		errs = append(errs, errors.New("plaintext: cannot be combined with TLS settings"))
	}
	return c, errors.Join(errs...)
}

// clientTLS returns the TLS configuration for the picker connection, nil for
// plaintext.
func (c Config) clientTLS() (*tls.Config, error) {
	if c.Plaintext {
		return nil, nil
	}
	if c.TLS != nil {
		return c.TLS.Clone(), nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // opt-in, for self-signed pickers
		ServerName:         c.ServerName,
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
