package auth

import (
	"net"
	"net/http"
	"net/netip"
)

// ipv6ClientBits is the prefix an IPv6 client is grouped by: a /64 is what
// one host or site usually gets, so its addresses share one budget.
const ipv6ClientBits = 64

// clientAddress returns the key failed attempts of r are counted under: the
// IP of the connection's peer (r.RemoteAddr without the port), IPv4-mapped
// IPv6 addresses as IPv4, other IPv6 addresses reduced to their /64.
// Forwarding headers are ignored: they are the client's to forge. A
// RemoteAddr that is not an IP (which net/http never produces) maps to the
// zero Addr, one shared key.
func clientAddress(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(ipv6ClientBits); err == nil {
			return p.Addr()
		}
	}
	return ip
}
