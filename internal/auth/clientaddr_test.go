package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	tests := []struct {
		remote string
		want   netip.Addr
	}{
		{"192.0.2.7:5555", netip.MustParseAddr("192.0.2.7")},
		{"192.0.2.7", netip.MustParseAddr("192.0.2.7")},
		{"[::ffff:192.0.2.7]:80", netip.MustParseAddr("192.0.2.7")},
		{"[2001:db8:1:2:3:4:5:6]:443", netip.MustParseAddr("2001:db8:1:2::")},
		{"[2001:db8:1:2:ffff::1]:443", netip.MustParseAddr("2001:db8:1:2::")},
		{"[fe80::1%eth0]:80", netip.MustParseAddr("fe80::")},
		{"not an address", netip.Addr{}},
		{"", netip.Addr{}},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = tc.remote
		if got := clientAddress(r); got != tc.want {
			t.Errorf("clientAddress(%q) = %v, want %v", tc.remote, got, tc.want)
		}
	}
	// Forwarding headers are the client's to forge and are ignored.
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = "192.0.2.7:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("X-Real-Ip", "198.51.100.2")
	if got := clientAddress(r); got != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("forwarding headers changed the address to %v", got)
	}
}
