package config

import (
	"net"
	"net/netip"
	"strconv"
)

// validateListen checks a listener address: host:port where the host may be
// empty (all interfaces) and the port is 0..65535 (0 picks a free port).
func validateListen(field, addr string) []error {
	if problem := hostPortProblem(addr, false, 0); problem != "" {
		return []error{fieldErrorf(field, "%s", problem)}
	}
	return nil
}

// validateEndpointAddress checks an endpoint address: host:port with a
// non-empty host and a port in 1..65535.
func validateEndpointAddress(field, addr string) []error {
	if problem := hostPortProblem(addr, true, 1); problem != "" {
		return []error{fieldErrorf(field, "%s", problem)}
	}
	return nil
}

// hostPortProblem describes why addr is not an acceptable host:port, or
// returns "" when it is. The host must be an IP address or a DNS-style name;
// the port must be a decimal number in minPort..65535.
func hostPortProblem(addr string, requireHost bool, minPort int) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return strconv.Quote(addr) + " is not host:port"
	}
	if host == "" {
		if requireHost {
			return strconv.Quote(addr) + " has no host"
		}
	} else if !validHost(host) {
		return strconv.Quote(addr) + " has an invalid host " + strconv.Quote(host)
	}
	n, ok := parsePort(port)
	if !ok || n < minPort {
		return strconv.Quote(addr) + " has port " + strconv.Quote(port) + ", want " + strconv.Itoa(minPort) + "..65535"
	}
	return ""
}

// hasZeroPort reports whether addr is host:0 (an ephemeral port), which may be
// shared by several listeners without a conflict.
func hasZeroPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, ok := parsePort(port)
	return ok && n == 0
}

// parsePort parses a decimal port in 0..65535 made only of digits.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, n <= 65535
}

// validHost reports whether host is an IP address or a plausible DNS name
// (labels of letters, digits, '-' and '_', separated by dots).
func validHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	labelLen := 0
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c == '.':
			if labelLen == 0 {
				return false
			}
			labelLen = 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			labelLen++
			if labelLen > 63 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
