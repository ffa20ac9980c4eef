package gateway

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"github.com/infergate/infergate/internal/certfile"
	"github.com/infergate/infergate/internal/config"
)

// tlsConfigs are the gateway's TLS settings, loaded from the config's files;
// a nil field means plain HTTP there.
type tlsConfigs struct {
	proxy, metrics *tls.Config // the listeners (server side)
	upstream       *tls.Config // connections to model servers (client side)
}

// loadTLS reads the certificate files the config names. It fails on the
// first file that cannot be read or parsed, naming it.
func loadTLS(cfg *config.Config, log *slog.Logger) (tlsConfigs, error) {
	var t tlsConfigs
	var err error
	if t.proxy, err = listenerTLS(cfg.TLS.Proxy, log); err != nil {
		return t, fmt.Errorf("tls.proxy: %w", err)
	}
	if t.metrics, err = listenerTLS(cfg.TLS.Metrics, log); err != nil {
		return t, fmt.Errorf("tls.metrics: %w", err)
	}
	if t.upstream, err = upstreamTLS(cfg.Upstream.TLS, log); err != nil {
		return t, fmt.Errorf("upstream.tls: %w", err)
	}
	return t, nil
}

// listenerTLS returns the server configuration of a listener serving the
// key pair kp (re-read when its files change), or nil when kp is not set.
// It offers HTTP/1.1 only, as the plain listeners serve.
func listenerTLS(kp config.KeyPair, log *slog.Logger) (*tls.Config, error) {
	if !kp.IsSet() {
		return nil, nil
	}
	p, err := certfile.Load(kp.CertFile, kp.KeyFile, certfile.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: p.GetCertificate,
		NextProtos:     []string{"http/1.1"},
	}, nil
}

// upstreamTLS returns the client configuration for model servers, or nil
// when upstream TLS is off.
func upstreamTLS(u config.UpstreamTLS, log *slog.Logger) (*tls.Config, error) {
	if !u.Enabled {
		return nil, nil
	}
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         u.ServerName,
		InsecureSkipVerify: u.InsecureSkipVerify,
	}
	if u.CAFile != "" {
		pool, err := certfile.LoadPool(u.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if kp := u.ClientPair(); kp.IsSet() {
		p, err := certfile.Load(kp.CertFile, kp.KeyFile, certfile.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		c.GetClientCertificate = p.GetClientCertificate
	}
	if u.InsecureSkipVerify {
		log.Warn("upstream.tls.insecureSkipVerify is on: model servers' certificates are not checked")
	}
	return c, nil
}

// tlsListener wraps ln to serve TLS with c, or returns ln when c is nil.
func tlsListener(ln net.Listener, c *tls.Config) net.Listener {
	if c == nil {
		return ln
	}
	return tls.NewListener(ln, c)
}
