package main

import (
	"crypto/tls"
	"errors"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/infergate/infergate/internal/certfile"
)

// simTLSFlags turn on HTTPS for `infergate sim`, so tests can run replicas
// that speak TLS and, optionally, require client certificates.
type simTLSFlags struct {
	certFile, keyFile, clientCAFile string
}

func (f *simTLSFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.certFile, "tls-cert-file", "", "serve HTTPS with this PEM certificate (re-read when it changes; needs --tls-key-file)")
	fs.StringVar(&f.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&f.clientCAFile, "tls-client-ca-file", "", "require client certificates signed by a CA in this PEM file (needs --tls-cert-file)")
}

// config returns the server TLS configuration the flags ask for, or nil
// when no flag is set.
func (f *simTLSFlags) config(log *slog.Logger) (*tls.Config, error) {
	switch {
	case f.certFile == "" && f.keyFile == "" && f.clientCAFile == "":
		return nil, nil
	case f.certFile == "" || f.keyFile == "":
		return nil, errors.New("--tls-cert-file and --tls-key-file go together (and --tls-client-ca-file needs them)")
	}
	pair, err := certfile.Load(f.certFile, f.keyFile, certfile.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: pair.GetCertificate, NextProtos: []string{"http/1.1"}}
	if f.clientCAFile != "" {
		pool, err := certfile.LoadPool(f.clientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}
