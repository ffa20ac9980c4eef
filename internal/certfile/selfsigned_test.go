package certfile

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// TestSelfSignedServes: the generated certificate completes a TLS
// handshake for its name, verifies against itself only, and is current.
func TestSelfSignedServes(t *testing.T) {
	now := time.Now()
	cert, err := SelfSigned("picker.local", now)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Leaf.NotBefore.Before(now) || !cert.Leaf.NotAfter.After(now.Add(365*24*time.Hour)) {
		t.Errorf("validity %v..%v", cert.Leaf.NotBefore, cert.Leaf.NotAfter)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "picker.local", Roots: roots}); err != nil {
		t.Errorf("does not verify against itself: %v", err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "picker.local"}); err == nil {
		t.Error("verifies against the system roots")
	}
	c, s := tlsPipe(t, &tls.Config{Certificates: []tls.Certificate{*cert}}, &tls.Config{RootCAs: roots, ServerName: "picker.local"})
	defer c.Close()
	defer s.Close()
	other, err := SelfSigned("picker.local", now)
	if err != nil {
		t.Fatal(err)
	}
	if other.Leaf.SerialNumber.Cmp(cert.Leaf.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

// tlsPipe completes a handshake between a server and a client over an
// in-memory connection, failing the test when it does not.
func tlsPipe(t *testing.T, server, client *tls.Config) (*tls.Conn, *tls.Conn) {
	t.Helper()
	sc, cc := net.Pipe()
	s, c := tls.Server(sc, server), tls.Client(cc, client)
	done := make(chan error, 1)
	go func() { done <- s.Handshake() }()
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return c, s
}
