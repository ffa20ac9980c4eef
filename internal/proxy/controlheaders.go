package proxy

import (
	"net/http"

	"github.com/infergate/infergate/internal/exchange"
)

// canonicalControl maps each control header's lower-case name to its
// canonical key, for allocation-free lookups in an http.Header.
var canonicalControl = func() map[string]string {
	m := make(map[string]string, len(exchange.ControlHeaders))
	for _, n := range exchange.ControlHeaders {
		m[n] = http.CanonicalHeaderKey(n)
	}
	return m
}()

// readControlHeaders returns the control values of h (see
// exchange.ReadControl). Untrusted, it removes every control header from h
// and returns the defaults.
func readControlHeaders(h http.Header, trusted bool) (exchange.Control, error) {
	if !trusted {
		for _, k := range canonicalControl {
			delete(h, k)
		}
		return exchange.ReadControl(func(string) string { return "" })
	}
	return exchange.ReadControl(func(name string) string {
		if vs := h[canonicalControl[name]]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	})
}
