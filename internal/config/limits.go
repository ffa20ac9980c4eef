package config

import "time"

// Limits defaults.
const (
	defaultMaxBodyBytes         = 16 << 20
	defaultMaxBufferedBodyBytes = 1 << 30
	defaultBodyReadTimeout      = 30 * time.Second
	defaultClientStallTimeout   = 30 * time.Second
	defaultMaxInFlight          = 10000
	defaultMaxConnsPerAddress   = 256
	defaultMaxConns             = 20000
	defaultMaxHeaderBytes       = 64 << 10
)

// Limits bounds what clients may send and hold.
type Limits struct {
	// MaxBodyBytes is the largest request body accepted, in bytes; larger
	// bodies get 413. Default 16 MiB; must be > 0.
	MaxBodyBytes int64 `yaml:"maxBodyBytes" json:"maxBodyBytes"`
	// MaxBufferedBodyBytes bounds the request-body memory held by all
	// in-flight requests together (buffers as allocated, plus rewritten
	// copies); a request that cannot get its share gets 503. Default
	// 1 GiB; must be >= maxBodyBytes.
	MaxBufferedBodyBytes int64 `yaml:"maxBufferedBodyBytes" json:"maxBufferedBodyBytes"`
	// BodyReadTimeout bounds the arrival of a request body once its
	// headers are read; past it the client gets 408 and the connection is
	// closed. Default 30s.
	BodyReadTimeout Duration `yaml:"bodyReadTimeout" json:"bodyReadTimeout"`
	// ClientStallTimeout is how long a response write may wait for a
	// client that takes no bytes; past it the upstream request is
	// cancelled and the connection closed. Default 30s.
	ClientStallTimeout Duration `yaml:"clientStallTimeout" json:"clientStallTimeout"`
	// MaxInFlight caps inference requests being read or served at once;
	// beyond it requests get 503. Default 10000; must be > 0.
	MaxInFlight int `yaml:"maxInFlight" json:"maxInFlight"`
	// MaxConnsPerAddress caps open proxy connections per client IP. A new
	// connection past it first evicts one of that address's idle
	// keep-alive connections; when none is idle its first request gets 503
	// and the connection is closed. Default 256; must be > 0.
	MaxConnsPerAddress int `yaml:"maxConnsPerAddress" json:"maxConnsPerAddress"`
	// MaxConns caps open proxy connections in total, with the same
	// behaviour past it. Default 20000; must be >= maxConnsPerAddress.
	MaxConns int `yaml:"maxConns" json:"maxConns"`
	// MaxHeaderBytes bounds the request line and headers of a request on
	// the proxy and metrics listeners; past it the client gets 431.
	// Default 64 KiB (Envoy's default is 60 KiB); must be >= 4096.
	MaxHeaderBytes int `yaml:"maxHeaderBytes" json:"maxHeaderBytes"`
}

// applyDefaults fills unset limits.
func (l *Limits) applyDefaults() {
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = defaultMaxBodyBytes
	}
	if l.MaxBufferedBodyBytes == 0 {
		l.MaxBufferedBodyBytes = max(defaultMaxBufferedBodyBytes, l.MaxBodyBytes)
	}
	durationOr(&l.BodyReadTimeout, defaultBodyReadTimeout)
	durationOr(&l.ClientStallTimeout, defaultClientStallTimeout)
	if l.MaxInFlight == 0 {
		l.MaxInFlight = defaultMaxInFlight
	}
	if l.MaxConnsPerAddress == 0 {
		l.MaxConnsPerAddress = defaultMaxConnsPerAddress
	}
	if l.MaxConns == 0 {
		l.MaxConns = max(defaultMaxConns, l.MaxConnsPerAddress)
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = defaultMaxHeaderBytes
	}
}

// validate checks every limit.
func (l Limits) validate() []error {
	var errs []error
	if l.MaxBodyBytes <= 0 {
		errs = append(errs, fieldErrorf("limits.maxBodyBytes", "must be > 0, got %d", l.MaxBodyBytes))
	}
	if l.MaxBufferedBodyBytes < l.MaxBodyBytes {
		errs = append(errs, fieldErrorf("limits.maxBufferedBodyBytes", "must be >= limits.maxBodyBytes (%d), got %d", l.MaxBodyBytes, l.MaxBufferedBodyBytes))
	}
	errs = append(errs, positiveDuration("limits.bodyReadTimeout", l.BodyReadTimeout)...)
	errs = append(errs, positiveDuration("limits.clientStallTimeout", l.ClientStallTimeout)...)
	if l.MaxInFlight <= 0 {
		errs = append(errs, fieldErrorf("limits.maxInFlight", "must be > 0, got %d", l.MaxInFlight))
	}
	if l.MaxConnsPerAddress <= 0 {
		errs = append(errs, fieldErrorf("limits.maxConnsPerAddress", "must be > 0, got %d", l.MaxConnsPerAddress))
	}
	if l.MaxConns < l.MaxConnsPerAddress {
		errs = append(errs, fieldErrorf("limits.maxConns", "must be >= limits.maxConnsPerAddress (%d), got %d", l.MaxConnsPerAddress, l.MaxConns))
	}
	if l.MaxHeaderBytes < 4096 {
		errs = append(errs, fieldErrorf("limits.maxHeaderBytes", "must be >= 4096, got %d", l.MaxHeaderBytes))
	}
	return errs
}
