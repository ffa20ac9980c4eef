package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// maxBody bounds the exposition the doctor reads.
const maxBody = 64 << 20

// scrape is one GET of the target.
type scrape struct {
	status   int
	header   http.Header
	body     []byte
	duration time.Duration
}

// get fetches target with token (none when empty).
func get(ctx context.Context, client *http.Client, target, token string) (*scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("User-Agent", "infergate-doctor")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("the answer is larger than %d MiB", maxBody>>20)
	}
	return &scrape{status: resp.StatusCode, header: resp.Header, body: body, duration: time.Since(start)}, nil
}

// explainTransport turns a failed request into a detail and a fix.
func explainTransport(target string, err error) (detail, fix string) {
	host := target
	if u, perr := url.Parse(target); perr == nil && u.Host != "" {
		host = u.Host
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
	)
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens on " + host,
			"start the gateway, or point --url at its metrics listener (metricsListen in the config, default :9090; `infergate demo` prints it)"
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name,
			"check the host name in --url (in a cluster: the Service or pod name and namespace)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer from " + host + " in time",
			"a firewall or NetworkPolicy may drop traffic to the port, or the gateway is overloaded; check that the port is open from here"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "the endpoint speaks plain HTTP, not HTTPS",
			"use an http:// URL (the metrics listener serves plain HTTP unless the gateway's tls.metrics is set)"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr):
		return "the TLS certificate is not trusted: " + oneLine(msg),
			"pass the CA that signed the gateway's tls.metrics certificate with --ca-file, or use the host name the certificate was issued for"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed without an answer: " + oneLine(msg),
			"is this an HTTPS port asked with http://, or another protocol (gRPC :9002)? use the metrics listener's http:// URL"
	}
	var uerr *url.Error
	if errors.As(err, &uerr) && uerr.Op == "parse" {
		return "invalid URL: " + oneLine(msg), "give --url as http://HOST:PORT/metrics"
	}
	if strings.Contains(msg, "unsupported protocol scheme") {
		return "invalid URL: " + oneLine(msg), "give --url as http://HOST:PORT/metrics"
	}
	return "request failed: " + oneLine(msg), "check --url and that the gateway is running"
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// oneLine returns the first line of s, printable characters only, at most
// 200 bytes: safe to print from an untrusted server.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
