package certfile_test

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/certfile"
	"github.com/infergate/infergate/internal/testca"
	"github.com/infergate/infergate/internal/testclock"
	"github.com/infergate/infergate/internal/testlog"
)

// fixture is a Pair loaded from files in a temp dir, with its clock and log.
type fixture struct {
	ca                *testca.CA
	dir               string
	certFile, keyFile string
	clock             *testclock.Clock
	log               *testlog.Buffer
	pair              *certfile.Pair
}

func newFixture(t *testing.T) (*fixture, *testca.Leaf) {
	t.Helper()
	f := &fixture{ca: testca.New(t, "test-ca"), dir: t.TempDir(), clock: testclock.New(time.Unix(1_700_000_000, 0)), log: &testlog.Buffer{}}
	first := f.ca.Server(t, "first")
	f.certFile, f.keyFile = first.Write(t, f.dir, "tls")
	p, err := certfile.Load(f.certFile, f.keyFile, certfile.Options{
		Logger: slog.New(slog.NewTextHandler(f.log, nil)),
		Now:    f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.pair = p
	return f, first
}

// rotate writes data as the pair's files and gives them a modification time
// a minute later than before, so the change shows however coarse the file
// system's timestamps are.
func (f *fixture) rotate(t *testing.T, certPEM, keyPEM []byte) {
	t.Helper()
	for path, data := range map[string][]byte{f.certFile: certPEM, f.keyFile: keyPEM} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		tmp := path + ".new"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		mod := fi.ModTime().Add(time.Minute)
		if err := os.Chtimes(tmp, mod, mod); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
}

// servedSerial completes a TLS handshake with a server using the pair and
// returns the serial of the certificate the client saw.
func (f *fixture) servedSerial(t *testing.T) string {
	t.Helper()
	srvConn, cliConn := net.Pipe()
	defer srvConn.Close()
	defer cliConn.Close()
	srv := tls.Server(srvConn, &tls.Config{GetCertificate: f.pair.GetCertificate, MinVersion: tls.VersionTLS12})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	cli := tls.Client(cliConn, &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return cli.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func serial(l *testca.Leaf) string { return l.Cert.SerialNumber.String() }

func TestRotationServedOnNextHandshakeAfterCheckInterval(t *testing.T) {
	t.Parallel()
	f, first := newFixture(t)
	if got := f.servedSerial(t); got != serial(first) {
		t.Fatalf("served serial %s, want the loaded certificate's %s", got, serial(first))
	}
	second := f.ca.Server(t, "second")
	f.rotate(t, second.CertPEM, second.KeyPEM)

	f.clock.Advance(certfile.CheckInterval - time.Millisecond)
	if got := f.servedSerial(t); got != serial(first) {
		t.Fatalf("files checked before CheckInterval: served %s, want still %s", got, serial(first))
	}
	f.clock.Advance(time.Millisecond)
	if got := f.servedSerial(t); got != serial(second) {
		t.Fatalf("after rotation and CheckInterval: served %s, want the new certificate's %s", got, serial(second))
	}
	if n := f.log.Count("TLS key pair reloaded"); n != 1 {
		t.Errorf("reload logged %d times, want 1:\n%s", n, f.log.String())
	}
}

func TestBadFilesKeepPreviousPairAndWarnOncePerChange(t *testing.T) {
	t.Parallel()
	f, first := newFixture(t)
	other := f.ca.Server(t, "other")
	bad := []struct {
		name          string
		certPEM, key  []byte
		wantInWarning string
	}{
		{"garbage certificate", []byte("not a certificate"), first.KeyPEM, "failed to find any PEM data"},
		{"key of another certificate", first.CertPEM, other.KeyPEM, "private key does not match"},
	}
	for i, b := range bad {
		f.rotate(t, b.certPEM, b.key)
		for range 3 { // Further checks of unchanged files log nothing more.
			f.clock.Advance(certfile.CheckInterval)
			if got := f.servedSerial(t); got != serial(first) {
				t.Fatalf("%s: served %s, want the previous certificate's %s", b.name, got, serial(first))
			}
		}
		if n := f.log.Count("level=WARN"); n != i+1 {
			t.Fatalf("%s: %d warnings so far, want %d:\n%s", b.name, n, i+1, f.log.String())
		}
		if n := f.log.Count(b.wantInWarning); n != 1 {
			t.Errorf("%s: warning should say %q once:\n%s", b.name, b.wantInWarning, f.log.String())
		}
	}

	// A missing file is one more kind of bad change.
	if err := os.Remove(f.keyFile); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(certfile.CheckInterval)
	if got := f.servedSerial(t); got != serial(first) {
		t.Fatalf("key file removed: served %s, want %s", got, serial(first))
	}
	if n := f.log.Count("level=WARN"); n != len(bad)+1 {
		t.Fatalf("key file removed: %d warnings, want %d:\n%s", n, len(bad)+1, f.log.String())
	}

	// A good pair after the bad ones is served.
	if err := os.WriteFile(f.keyFile, first.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	f.rotate(t, other.CertPEM, other.KeyPEM)
	f.clock.Advance(certfile.CheckInterval)
	if got := f.servedSerial(t); got != serial(other) {
		t.Fatalf("fixed files: served %s, want %s", got, serial(other))
	}
}

func TestClientCertificateRotates(t *testing.T) {
	t.Parallel()
	f, first := newFixture(t)
	presented := func() string {
		t.Helper()
		srvConn, cliConn := net.Pipe()
		defer srvConn.Close()
		defer cliConn.Close()
		serverCert := f.ca.Server(t, "server").TLSCertificate(t)
		srv := tls.Server(srvConn, &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    f.ca.Pool(),
		})
		errc := make(chan error, 1)
		go func() { errc <- srv.Handshake() }()
		cli := tls.Client(cliConn, &tls.Config{
			RootCAs:              f.ca.Pool(),
			ServerName:           "localhost",
			GetClientCertificate: f.pair.GetClientCertificate,
		})
		if err := cli.Handshake(); err != nil {
			t.Fatalf("client handshake: %v", err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("server handshake: %v", err)
		}
		return srv.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := presented(); got != serial(first) {
		t.Fatalf("client presented %s, want %s", got, serial(first))
	}
	second := f.ca.Client(t, "second")
	f.rotate(t, second.CertPEM, second.KeyPEM)
	f.clock.Advance(certfile.CheckInterval)
	if got := presented(); got != serial(second) {
		t.Fatalf("after rotation the client presented %s, want %s", got, serial(second))
	}
}

func TestLoadFailsNamingTheFile(t *testing.T) {
	t.Parallel()
	ca := testca.New(t, "test-ca")
	dir := t.TempDir()
	a := ca.Server(t, "a")
	certFile, keyFile := a.Write(t, dir, "a")
	_, otherKey := ca.Server(t, "b").Write(t, dir, "b")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN NOTHING-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.crt")
	tests := []struct {
		name              string
		certFile, keyFile string
		want              []string
	}{
		{"missing certificate", missing, keyFile, []string{"certificate file", missing, "no such file"}},
		{"missing key", certFile, missing, []string{"key file", missing, "no such file"}},
		{"garbage certificate", garbage, keyFile, []string{garbage, "certificate input"}},
		{"garbage key", certFile, garbage, []string{garbage, "key input"}},
		{"mismatched key", certFile, otherKey, []string{certFile, otherKey, "does not match"}},
	}
	for _, tc := range tests {
		_, err := certfile.Load(tc.certFile, tc.keyFile, certfile.Options{})
		if err == nil {
			t.Errorf("%s: Load succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestLoadPool(t *testing.T) {
	t.Parallel()
	ca := testca.New(t, "test-ca")
	dir := t.TempDir()
	pool, err := certfile.LoadPool(ca.WriteCA(t, dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	leaf := ca.Server(t, "s").Cert
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("certificate issued by the CA does not verify with the loaded pool: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{garbage, filepath.Join(dir, "missing.pem")} {
		if _, err := certfile.LoadPool(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadPool(%s) = %v, want an error naming the file", path, err)
		}
	}
}
