package envoystandin

import (
	"net/netip"
	"testing"
)

func TestParseDestination(t *testing.T) {
	valid := map[string]string{
		"10.0.0.1:8000":           "10.0.0.1:8000",
		"127.0.0.1:0":             "127.0.0.1:0",
		"[::1]:80":                "[::1]:80",
		"[fe80::1%2]:80":          "[fe80::1%2]:80",
		"[::ffff:10.0.0.1]:80":    "[::ffff:10.0.0.1]:80",
		"10.0.0.1:+80":            "10.0.0.1:80", // absl::SimpleAtoi takes a sign
		"10.0.0.1: 80 ":           "10.0.0.1:80", // and surrounding spaces
		"10.0.0.1:0080":           "10.0.0.1:80",
		"10.0.0.1:65535":          "10.0.0.1:65535",
		"[2001:db8::1]:8000":      "[2001:db8::1]:8000",
		"[2001:db8::1]]:8000":     "",
		"10.0.0.1:65536":          "",
		"10.0.0.1:-1":             "",
		"10.0.0.1:":               "",
		"10.0.0.1":                "",
		":80":                     "",
		"localhost:80":            "",
		"010.0.0.1:80":            "", // inet_pton rejects leading zeros
		"10.0.0:80":               "",
		"::1:80":                  "", // IPv6 needs brackets
		"[10.0.0.1]:80":           "", // bracketed must be IPv6
		"[fe80::1%eth0]:80":       "",
		"10.0.0.1:80,10.0.0.2:80": "",
		"":                        "",
		"[::1]":                   "",
	}
	for in, want := range valid {
		got, ok := ParseDestination(in)
		if want == "" {
			if ok {
				t.Errorf("ParseDestination(%q) = %v, want invalid", in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddrPort(want) {
			t.Errorf("ParseDestination(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
}

func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{"10.0.0.1:8000", "[::1]:80", "[fe80::1%2]:1", "1.2.3.4:+0", "", "[", "]:", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ap, ok := ParseDestination(s)
		if !ok {
			return
		}
		// What it accepts round-trips through its canonical form.
		again, ok := ParseDestination(ap.String())
		if !ok || again != ap {
			t.Fatalf("%q → %v does not round-trip (%v %v)", s, ap, again, ok)
		}
	})
}
