package config

import (
	"strings"
	"testing"
)

func TestHostPortProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		addr        string
		requireHost bool
		minPort     int
		want        string
	}{
		{name: "IPv4", addr: "127.0.0.1:8001", requireHost: true, minPort: 1},
		{name: "IPv6", addr: "[::1]:8001", requireHost: true, minPort: 1},
		{name: "IPv6 with zone", addr: "[fe80::1%eth0]:8001", requireHost: true, minPort: 1},
		{name: "service DNS name", addr: "vllm-0.vllm.default.svc.cluster.local:8000", requireHost: true, minPort: 1},
		{name: "trailing dot", addr: "example.com.:443", requireHost: true, minPort: 1},
		{name: "max port", addr: "h:65535", requireHost: true, minPort: 1},
		{name: "listener without host", addr: ":8080"},
		{name: "listener port zero", addr: "127.0.0.1:0"},
		{name: "no port", addr: "h", requireHost: true, minPort: 1, want: `"h" is not host:port`},
		{name: "IPv6 without brackets", addr: "::1:80", requireHost: true, minPort: 1, want: `"::1:80" is not host:port`},
		{name: "empty label", addr: "a..b:1", requireHost: true, minPort: 1, want: `"a..b:1" has an invalid host "a..b"`},
		{name: "label too long", addr: strings.Repeat("a", 64) + ":1", requireHost: true, minPort: 1, want: "has an invalid host"},
		{name: "name too long", addr: strings.Repeat("a.", 127) + ":1", requireHost: true, minPort: 1, want: "has an invalid host"},
		{name: "signed port", addr: "h:+80", requireHost: true, minPort: 1, want: `"h:+80" has port "+80", want 1..65535`},
		{name: "long port", addr: "h:000080", requireHost: true, minPort: 1, want: `"h:000080" has port "000080", want 1..65535`},
		{name: "empty port", addr: "h:", requireHost: true, minPort: 1, want: `"h:" has port "", want 1..65535`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := hostPortProblem(tc.addr, tc.requireHost, tc.minPort)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("hostPortProblem(%q) = %q, want %q", tc.addr, got, tc.want)
			}
		})
	}
}

func TestListenersMayShareEphemeralPort(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(minimalYAML + "listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Listen != "127.0.0.1:0" || c.MetricsListen != "127.0.0.1:0" {
		t.Errorf("listeners = %q, %q; want both 127.0.0.1:0", c.Listen, c.MetricsListen)
	}
}
