package certfile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// CheckInterval is the longest a changed file goes unnoticed: a handshake
// checks the files when the last check is at least this old.
const CheckInterval = time.Second

// Options configure a [Pair]. The zero value is usable.
type Options struct {
	// Logger receives reloads (INFO) and failed reloads (WARN); nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Pair is a certificate and private key read from two PEM files and re-read
// when either file changes. Its methods are safe for concurrent use.
type Pair struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	cert      atomic.Pointer[tls.Certificate]
	lastCheck atomic.Int64 // unix nanoseconds of the last stat of the files

	mu     sync.Mutex // serializes reloads; guards loaded and failed
	loaded stamp      // the files' state when cert was read
	failed failure    // the last failed reload, logged once
}

// stamp is the modification time and size of both files.
type stamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// failure identifies a failed reload: the files' state, or the error when
// they could not be inspected.
type failure struct {
	at  stamp
	err string
}

// Load reads the key pair from certFile (the PEM certificate chain, leaf
// first) and keyFile (its PEM private key). It fails when either file cannot
// be read or parsed, or when they do not match; the error names the files.
func Load(certFile, keyFile string, o Options) (*Pair, error) {
	p := &Pair{certFile: certFile, keyFile: keyFile, log: o.Logger, now: o.Now}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	st, err := p.stat()
	if err != nil {
		return nil, err
	}
	cert, err := p.read()
	if err != nil {
		return nil, err
	}
	p.cert.Store(cert)
	p.loaded = st
	p.lastCheck.Store(p.now().UnixNano())
	return p, nil
}

// GetCertificate returns the current certificate; use it as
// tls.Config.GetCertificate.
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return p.Certificate(), nil
}

// GetClientCertificate returns the current certificate; use it as
// tls.Config.GetClientCertificate.
func (p *Pair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return p.Certificate(), nil
}

// Certificate returns the current key pair, first re-reading the files when
// the last check is [CheckInterval] old and they changed since.
func (p *Pair) Certificate() *tls.Certificate {
	now := p.now().UnixNano()
	last := p.lastCheck.Load()
	if now-last >= int64(CheckInterval) && p.lastCheck.CompareAndSwap(last, now) {
		p.refresh()
	}
	return p.cert.Load()
}

// refresh re-reads the pair if the files changed. A failure keeps the
// current pair and is logged once per state of the files.
func (p *Pair) refresh() {
	if !p.mu.TryLock() {
		return // Another handshake is reloading.
	}
	defer p.mu.Unlock()
	st, err := p.stat()
	if err == nil && st == p.loaded {
		return
	}
	var cert *tls.Certificate
	if err == nil {
		cert, err = p.read()
	}
	if err != nil {
		f := failure{at: st, err: err.Error()}
		if f != p.failed {
			p.failed = f
			p.log.Warn("TLS key pair not reloaded; serving the previous one",
				"cert_file", p.certFile, "key_file", p.keyFile, "err", err)
		}
		return
	}
	p.cert.Store(cert)
	p.loaded, p.failed = st, failure{}
	attrs := []any{"cert_file", p.certFile, "key_file", p.keyFile}
	if leaf := cert.Leaf; leaf != nil {
		attrs = append(attrs, "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	p.log.Info("TLS key pair reloaded", attrs...)
}

// stat returns the files' current modification times and sizes.
func (p *Pair) stat() (stamp, error) {
	cfi, err := os.Stat(p.certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("certificate file: %w", err)
	}
	kfi, err := os.Stat(p.keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("key file: %w", err)
	}
	return stamp{certMod: cfi.ModTime(), certSize: cfi.Size(), keyMod: kfi.ModTime(), keySize: kfi.Size()}, nil
}

// read parses the two files into a key pair.
func (p *Pair) read() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(p.certFile)
	if err != nil {
		return nil, fmt.Errorf("certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(p.keyFile)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("key pair %s + %s: %w", p.certFile, p.keyFile, err)
	}
	return &cert, nil
}
