package envoystandin

import (
	"net/netip"
	"strings"
)

// DestinationHeader is the request header the ORIGINAL_DST cluster reads
// (original_dst_lb_config.http_header_name in upstream's Envoy config).
const DestinationHeader = "x-gateway-destination-endpoint"

// ParseDestination parses an ORIGINAL_DST override header value exactly as
// Envoy's Network::Utility::parseInternetAddressAndPortNoThrow does: either
// "[ipv6]:port" (split at the last "]:") or "ipv4:port" (split at the last
// ':'), the IPv4 address in strict dotted-quad form (inet_pton), the port
// parsed like absl::SimpleAtoi (surrounding ASCII spaces and a leading '+'
// allowed) and at most 65535. A list such as "a:1,b:2" is invalid. IPv6
// zones are accepted only when numeric.
func ParseDestination(v string) (netip.AddrPort, bool) {
	if v == "" {
		return netip.AddrPort{}, false
	}
	var ipStr, portStr string
	if v[0] == '[' {
		pos := strings.LastIndex(v, "]:")
		if pos < 0 {
			return netip.AddrPort{}, false
		}
		ipStr, portStr = v[1:pos], v[pos+2:]
	} else {
		pos := strings.LastIndexByte(v, ':')
		if pos < 0 {
			return netip.AddrPort{}, false
		}
		ipStr, portStr = v[:pos], v[pos+1:]
	}
	port, ok := simpleAtoiPort(portStr)
	if !ok {
		return netip.AddrPort{}, false
	}
	addr, err := netip.ParseAddr(ipStr)
	if err != nil {
		return netip.AddrPort{}, false
	}
	if v[0] == '[' {
		if !addr.Is6() || !numericZone(addr.Zone()) {
			return netip.AddrPort{}, false
		}
	} else if !addr.Is4() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, port), true
}

// simpleAtoiPort parses s as absl::SimpleAtoi parses a uint64 and checks it
// is a port number.
func simpleAtoiPort(s string) (uint16, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return uint16(n), true
}

// numericZone reports whether an IPv6 zone is empty or a number (an interface
// name would need a lookup that getaddrinfo does against this host).
func numericZone(z string) bool {
	for i := 0; i < len(z); i++ {
		if z[i] < '0' || z[i] > '9' {
			return false
		}
	}
	return true
}
