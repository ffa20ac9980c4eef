package config

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtProcDefaultsOff(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(minimalYAML))
	if err != nil {
		t.Fatal(err)
	}
	if c.ExtProc.On() || c.ExtProc.HealthOn() {
		t.Errorf("ext_proc on by default: %+v", c.ExtProc)
	}
	if got := c.ExtProcPool(); got != "p" {
		t.Errorf("ExtProcPool() = %q, want the only pool", got)
	}
	off, err := Parse([]byte(minimalYAML + "extProc: {listen: \"off\", healthListen: \"off\"}\n"))
	if err != nil || off.ExtProc.On() || off.ExtProc.HealthOn() {
		t.Errorf("off: %v %+v", err, off.ExtProc)
	}
}

func TestParseExtProcValidationErrors(t *testing.T) {
	t.Parallel()
	twoPools := `
pools:
  - {name: a, endpoints: [{address: 10.0.0.1:8000}]}
  - {name: b, endpoints: [{address: 10.0.0.2:8000}]}
metrics: {auth: {tokenFile: /run/token}}
`
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "duplicate listeners",
			yaml: minimalYAML + "listen: \":9002\"\nextProc: {listen: \"127.0.0.1:9002\", healthListen: \":9090\"}\n",
			want: []string{
				`extProc.listen: "127.0.0.1:9002" is also the listen address`,
				`extProc.healthListen: ":9090" is also the metricsListen address`,
			},
		},
		{
			name: "health without ext_proc, bad address",
			yaml: minimalYAML + "extProc: {healthListen: \"nope\"}\n",
			want: []string{`extProc.healthListen: "nope" is not host:port`, `extProc.healthListen: needs extProc.listen`},
		},
		{
			name: "pool required with several pools",
			yaml: twoPools + "extProc: {listen: \":9002\"}\n",
			want: []string{`extProc.pool: is required when the gateway serves several pools (Envoy names none)`},
		},
		{
			name: "unknown pool",
			yaml: twoPools + "extProc: {listen: \":9002\", pool: c}\n",
			want: []string{`extProc.pool: "c" names no pool`},
		},
		{
			name: "proxy off without ext_proc",
			yaml: minimalYAML + "listen: \"off\"\n",
			want: []string{`listen: can be off only when extProc.listen is set (nothing would serve requests)`},
		},
		{
			name: "host names in the ext_proc pool",
			yaml: "pools:\n  - {name: p, endpoints: [{address: \"vllm-0.svc:8000\"}, {address: \"10.0.0.1:8000\"}]}\nmetrics: {auth: {tokenFile: /t}}\nextProc: {listen: \":9002\"}\n",
			want: []string{`pools[0].endpoints[0].address: "vllm-0.svc:8000": the ext_proc pool's endpoints need IP addresses (Envoy's ORIGINAL_DST cluster reads ip:port only)`},
		},
		{
			name: "plaintext with tls, fallbacks out of range",
			yaml: minimalYAML + "extProc: {listen: \":9002\", plaintext: true, tls: {certFile: /c, keyFile: /k}, fallbacks: 9}\n",
			want: []string{
				`extProc.plaintext: cannot be combined with extProc.tls (the certificate would not be used)`,
				`extProc.fallbacks: must be in 0..8, got 9`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Parse([]byte(minimalYAML + "listen: \"off\"\nextProc: {listen: \":9002\"}\n")); err != nil {
		t.Fatalf("a pure picker (proxy off): %v", err)
	}
	c, err := Parse([]byte(twoPools + "extProc: {listen: \"127.0.0.1:0\", healthListen: \"127.0.0.1:0\", pool: b}\n"))
	if err != nil || c.ExtProcPool() != "b" {
		t.Fatalf("two pools with extProc.pool: %v", err)
	}
}

// TestExampleExtProcBlockParses uncomments the example's commented extProc
// block and checks that the keys it shows are the real ones.
func TestExampleExtProcBlockParses(t *testing.T) {
	t.Parallel()
	lines := strings.Split(string(Example), "\n")
	found := false
	for i := 0; i < len(lines); i++ {
		if lines[i] != "# extProc:" {
			continue
		}
		found = true
		lines[i] = "extProc:"
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "#   "); j++ {
			lines[j] = strings.TrimPrefix(lines[j], "#")
			lines[j] = regexp.MustCompile(`^\s+#.*$`).ReplaceAllString(lines[j], "")
		}
	}
	if !found {
		t.Fatal("no commented extProc block in the example")
	}
	c, err := Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("the example with its extProc block uncommented does not parse: %v", err)
	}
	if !c.ExtProc.On() || !c.ExtProc.HealthOn() || c.ExtProc.Pool != "llama" || !c.ExtProc.TLS.IsSet() {
		t.Errorf("extProc %+v", c.ExtProc)
	}
}
