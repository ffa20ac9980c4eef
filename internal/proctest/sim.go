package proctest

import (
	"regexp"
	"strings"
	"testing"
)

// listeningRE matches the simulator's readiness line.
var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// StartSim starts `infergate sim` named name on listen (host:port; port 0
// picks a free one) with extra flags, and returns the process and the bound
// address.
func StartSim(tb testing.TB, bin, listen, name string, extra ...string) (*Proc, string) {
	tb.Helper()
	args := append([]string{"sim", "--listen", listen, "--name", name, "--log-level", "warn"}, extra...)
	p, m := Start(tb, bin, listeningRE, args...)
	return p, m[1]
}

// servingRE matches the gateway's readiness line; the third group holds the
// attributes after the addresses (proxy_tls=, metrics_tls=).
var servingRE = regexp.MustCompile(`gateway serving.*proxy=(\S+) metrics=(\S+)(.*)$`)

// Gateway is a running `infergate serve`.
type Gateway struct {
	*Proc
	// URL is the proxy listener's base URL (http://host:port, or https://
	// when the listener serves TLS).
	URL string
	// MetricsURL is the metrics listener's base URL.
	MetricsURL string
}

// StartGateway runs `infergate serve` with args (at least --config) and
// waits until it serves.
func StartGateway(tb testing.TB, bin string, args ...string) *Gateway {
	tb.Helper()
	p, m := Start(tb, bin, servingRE, append([]string{"serve"}, args...)...)
	return &Gateway{Proc: p, URL: scheme(m[3], "proxy_tls") + m[1], MetricsURL: scheme(m[3], "metrics_tls") + m[2]}
}

// scheme returns "https://" when the readiness line's attrs say key=true,
// and "http://" otherwise.
func scheme(attrs, key string) string {
	if strings.Contains(attrs, " "+key+"=true") {
		return "https://"
	}
	return "http://"
}
